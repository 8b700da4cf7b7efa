"""Trust scores (the specific score, MIS, path similarity): the arithmetic by hand, LPIPS against
its formula, and on the real weights and a few hundred real photos, through a real Snakemake
run and the `python -m pipeline trust` command line: the score is specific to its filter, a
bad file is skipped, and every wrong command is one line."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, VGG16, last_line, run
from pipeline.measure import trust
from pipeline.output import layout
from pipeline.output.record import Null, Trust



def test_tasks_never_use_a_query_as_its_own_reference():
    plan = trust.tasks(3, 4, 2)
    assert len(plan) == 12
    for t in plan:
        assert t.strong not in t.positives and t.weak not in t.negatives
        assert len(t.positives) == len(t.negatives) == 2
    assert trust.tasks(3, 3, 9)[0].positives == (1, 2)  # fewer images than K: all the rest


def test_mis_reproduces_a_task_computed_by_hand():
    # Pools of 2 strong (s0, s1) and 2 weak (w0, w1) images; one reference a side per task.
    # Query rows: s0, s1, w0, w1. Columns: the strong pool (pos) and the weak pool (neg).
    pos = np.array([[0.0, 0.2], [0.2, 0.0], [0.5, 0.7], [0.6, 0.4]])
    neg = np.array([[0.6, 0.5], [0.9, 0.3], [0.0, 0.1], [0.1, 0.0]])
    plan = trust.tasks(2, 2, 1)
    delta = trust.evidence(pos, neg, plan, True, True, 2)
    # Task 0: queries s0 and w0, references s1 and w1.
    #   evidence(s0) = d(s0, w1) - d(s0, s1) = 0.5 - 0.2 = 0.3
    #   evidence(w0) = d(w0, w1) - d(w0, s1) = 0.1 - 0.7 = -0.6
    assert delta[0] == pytest.approx(0.3 - (-0.6))
    # Task 3: queries s1 and w1, references s0 and w0: (0.9 - 0.2) - (0.1 - 0.6) = 1.2.
    assert delta[3] == pytest.approx(1.2)
    p = 1 / (1 + np.exp(-trust.ALPHA * delta))
    got = trust.score(trust.as_matrix(delta, 2), seed=0)
    assert got.mis == pytest.approx(round(p.mean(), 4)) and got.accuracy == 1.0
    assert got.low <= got.mis <= got.high
    # Synthetic references are used whole by every task: two pictures, one negative picture.
    pics, negs = np.array([[0.1, 0.3], [0.2, 0.2], [0.8, 0.6], [0.7, 0.9]]), np.array([[0.9], [0.8], [0.2], [0.1]])
    d = trust.evidence(pics, negs, plan, False, False, 2)
    assert d[0] == pytest.approx((0.9 - 0.2) - (0.2 - 0.7))


def test_the_specific_score_reproduces_a_task_computed_by_hand():
    # Queries s0, s1 (strong), w0 (weak); the candidate picture and two other pictures.
    cand = np.array([0.2, 0.3, 0.6])
    others = np.array([[0.5, 0.7], [0.4, 0.4], [0.3, 0.4]])
    # evidence(q) = mean d(q, others) - d(q, cand): s0 0.6 - 0.2 = 0.4, s1 0.4 - 0.3 = 0.1, w0 0.35 - 0.6 = -0.25
    delta = trust.contrast(cand, others, 2)
    assert delta[:, 0] == pytest.approx([0.65, 0.35])
    got = trust.specific(cand, others, 2, seed=0)
    assert got.mis == 1.0 and got.accuracy == 1.0  # both strong queries chosen outright
    # The null: other picture 0 as the candidate, other picture 1 its only negative:
    # evidence s0 0.7 - 0.5, s1 0.4 - 0.4, w0 0.4 - 0.3: s0 beats w0, s1 does not.
    e = np.array([0.7 - 0.5, 0.4 - 0.4, 0.4 - 0.3])
    assert trust.null(others, 2)[0] == pytest.approx(trust.right(e[:2] - e[2]).mean())
    assert trust.null(others, 2)[0] == pytest.approx(0.5)


def test_a_picture_like_every_other_of_its_layer_is_not_specific():
    """Whatever makes any picture look like the strong photos cancels: a candidate drawn like the
    others scores about chance, and the same one nearer the strong queries scores above the null."""
    rng = np.random.default_rng(1)
    ns = nw = 18
    # Every picture sits nearer the strong queries (textured) than the weak ones (flat).
    others = np.vstack([rng.normal(0.5, 0.05, (ns, 40)), rng.normal(0.8, 0.05, (nw, 40))])
    typical = np.concatenate([rng.normal(0.5, 0.05, ns), rng.normal(0.8, 0.05, nw)])
    own = typical - np.r_[np.full(ns, 0.05), np.zeros(nw)]
    assert abs(trust.specific(typical, others, ns, 0).mis - 0.5) < 0.1
    nulls = trust.null(others, ns)
    got = trust.specific(own, others, ns, 0)
    assert got.low > np.median(nulls) and trust.specificity(got, Null([1], float(np.median(nulls)), 0.6, 0.5),
                                                            [ns, nw]) == "specific"


def test_intervals_from_thirteen_photos_are_never_zero_wide():
    """6 strong and 6 weak photos, every task right: the bootstrap over images alone gave
    1.00 (1.00 to 1.00); with one image a side at chance as a prior it cannot."""
    got = trust.score(np.full((6, 6), 1.0), seed=0)
    assert got.mis == 1.0 and got.high - got.low >= 0.2
    for seed in range(5):
        delta = np.random.default_rng(seed).normal(0.03, 0.05, (6, 6))
        got = trust.score(delta, seed)
        assert got.high - got.low >= 0.02 and np.isfinite([got.mis, got.low, got.high]).all()
    assert trust.specificity(got, Null([1], 0.5, 0.6, 0.4), [6, 6]) == "demonstration"


def test_spearman_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 5, 40).astype(float), rng.normal(size=40)
    assert trust.spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert trust.spearman(np.ones(5), b[:5]) == 0.0


def test_lpips_is_its_formula_and_zero_for_the_same_image(base):
    from pipeline.measure import lpips
    from pipeline.model import weights
    from pipeline.model.preprocess import preprocess

    sim = lpips.Similarity(lpips.LPIPS, weights.cache_dir(None), base)
    rng = np.random.default_rng(0)
    from pipeline.images import photos

    shots = photos.scorecard_photos(lpips.SIDE)
    a, b = shots[3], shots[4]  # chelsea, coffee
    noisy = np.clip(a + rng.normal(0, 8, a.shape), 0, 255).astype(np.uint8)
    emb = sim.embed(np.stack([a, b, noisy]))
    d = sim.distances(emb, emb)
    assert d[0, 0] == pytest.approx(0.0, abs=1e-5) and d[0, 2] < d[0, 1]
    # LPIPS as Zhang et al. write it: per layer, unit-normalise the channels, square the
    # difference, weight by the head, average over space; sum the layers.
    heads = weights.lpips_heads(weights.cache_dir(None))
    import keras

    model = keras.Model(base.input, [base.get_layer(n).output for n in lpips.LAYERS])
    fa, fb = (model(preprocess(np.asarray(x[None], np.float32), "torch")) for x in (a, b))
    total = 0.0
    for x, y, w in zip(fa, fb, heads):
        x, y = np.asarray(x[0]), np.asarray(y[0])
        x = x / (np.sqrt((x ** 2).sum(-1, keepdims=True)) + 1e-10)
        y = y / (np.sqrt((y ** 2).sum(-1, keepdims=True)) + 1e-10)
        total += float((((x - y) ** 2) * w).sum(-1).mean())
    assert d[0, 1] == pytest.approx(total, rel=1e-4)


def drawn() -> tuple[str, list[int]]:
    """A layer of blocks 3 to 5 and 12 of its filters, drawn by this test (its own seed: not the
    draws the score was tuned or checked on, docs/trust.md), the same on every run."""
    rng = np.random.default_rng(20261204)

    deep = [lyr for lyr in VGG16.layers if lyr.block >= 3]
    lyr = deep[int(rng.integers(len(deep)))]
    return lyr.name, sorted(int(f) for f in rng.choice(lyr.filters, 12, replace=False))


LAYER, FILTERS = drawn()


@pytest.fixture(scope="module")
def atlas(tmp_path_factory, real_weights) -> Path:
    """The drawn filters at the default settings, their dataset examples from a few hundred real
    photos (bench/photos.py) with a truncated JPEG and a text file named like an image among
    them, and trust on: through a real Snakemake run."""
    workdir = tmp_path_factory.mktemp("trust")
    proc = run([sys.executable, "bench/photos.py"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    folder = workdir / "photos"
    shutil.copytree(proc.stdout.strip(), folder)
    good = (folder / "foolbox" / "imagenet_00_243.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(good[: len(good) // 3])  # truncated
    (folder / "notes.png").write_text("not an image")
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--config", f"layers=[{LAYER}]", f"filters=[{','.join(map(str, FILTERS))}]",
                "compare_classic=False", "dreams=[]", f"examples={folder}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas"


def test_a_bad_file_in_the_folder_is_skipped_and_named(atlas):
    manifest = json.loads(Path(layout.examples_manifest(atlas, LAYER)).read_text())
    assert sorted(manifest["skipped"]) == ["broken.jpg", "notes.png"] and manifest["images"] == 266
    log = Path(layout.log(atlas, "trust", LAYER)).read_text()
    assert "Traceback" not in log


def test_every_filter_has_its_scores_with_intervals(atlas):
    for f in FILTERS:
        t = Trust.read(layout.trust_json(atlas, LAYER, f))
        assert (t.pool, t.references, t.tasks) == ([18, 18], 9, 324)  # 2K a side: Borowski's K = 9
        for m in (t.natural, t.synthetic, t.specific):
            assert 0 <= m.low <= m.mis <= m.high <= 1 and m.high - m.low >= 0.02
        assert t.synthetic_kind == "mixed" and t.similarity == "lpips-vgg"
        assert sorted(t.null.others) == [g for g in FILTERS if g != f]
        assert [p.layer for p in t.path_curve][-1] == LAYER and -1 <= t.path <= 1


def test_the_score_is_specific_to_its_filter_on_real_photos(atlas):
    """The specificity property (docs/trust.md): a filter's own picture beats the median of its
    layer's other pictures by 0.05 or more, and grey noise by 0.05 or more, for at least 75% of
    the drawn filters; and a verdict is given on these photos."""
    records = [Trust.read(layout.trust_json(atlas, LAYER, f)) for f in FILTERS]
    passed = [t.specific.mis - t.null.median >= 0.05 and t.specific.mis - t.null.noise >= 0.05 for t in records]
    assert np.mean(passed) >= 0.75, [(t.filter, t.specific.mis, t.null.median, t.null.noise) for t in records]
    assert {trust.verdict(t) for t in records} <= {"specific", "not specific", "worse"}


def test_at_the_defaults_the_crosses_mark_outliers_not_the_majority(atlas):
    summary = json.loads(Path(layout.layer_summary(atlas, LAYER)).read_text())
    assert summary["rendered"] == 12 and summary["crossed"] < 6, summary


def test_the_scorer_command_scores_any_picture_as_the_atlas_does(atlas, tmp_path):
    """`python -m pipeline trust --outdir ATLAS LAYER FILTER IMAGE...`: one JSON line per image;
    the filter's own PNG gets exactly its record's scores; another filter's picture and grey
    noise score below it."""
    f, g = FILTERS[0], FILTERS[1]
    own, other = layout.filter_png(atlas, LAYER, f), layout.filter_png(atlas, LAYER, g)
    noise = tmp_path / "noise.png"
    Image.fromarray(np.clip(128 + 20 * np.random.default_rng(5).standard_normal((128, 128, 3)), 0, 255)
                    .astype(np.uint8)).save(noise)
    proc = run([sys.executable, "-m", "pipeline", "trust", "--outdir", str(atlas), LAYER, str(f), own, other, str(noise)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [x["image"] for x in lines] == [own, other, str(noise)]
    record = Trust.read(layout.trust_json(atlas, LAYER, f))
    assert lines[0]["mis"] == record.specific.mis and lines[0]["path"] == record.path
    assert lines[0]["natural_mis"] == record.natural.mis and lines[0]["verdict"] == trust.verdict(record)
    assert all(0 <= x["mis"] <= 1 and -1 <= x["path"] <= 1 for x in lines)


@pytest.mark.parametrize("args, says", [
    (["LAYER", "FILTER"], "give LAYER FILTER IMAGE"),
    (["LAYER", "0-3", "x.png"], "is not one filter"),
    (["LAYER", "FILTER", "missing.png"], "missing.png"),
    (["LAYER", "FILTER", "README.md"], "cannot be read as an image"),
    (["LAYER", "OTHER", "README.md"], "is not in the atlas"),
    (["block1_conv1", "2", "README.md"], "no filter of block1_conv1 is rendered"),
    (["block9_conv1", "2", "x.png"], "block9_conv1"),
])
def test_the_scorer_command_says_what_is_wrong_in_one_line(atlas, args, says):
    other = next(g for g in range(512) if g not in FILTERS)
    args = [{"LAYER": LAYER, "FILTER": str(FILTERS[0]), "OTHER": str(other)}.get(a, a) for a in args]
    proc = run([sys.executable, "-m", "pipeline", "trust", "--outdir", str(atlas), *args])
    assert proc.returncode == 2 and says in last_line(proc.stderr), proc.stderr[-1000:]
    assert "Traceback" not in proc.stderr and "tensorflow" not in proc.stderr.lower()


def test_an_atlas_without_examples_is_one_line(atlas, tmp_path):
    bare = tmp_path / "atlas"
    shutil.copytree(Path(atlas, "filters"), bare / "filters")
    proc = run([sys.executable, "-m", "pipeline", "trust", "--outdir", str(bare), LAYER, str(FILTERS[0]),
                layout.filter_png(bare, LAYER, FILTERS[0])])
    assert proc.returncode == 2 and "has no dataset examples" in last_line(proc.stderr), proc.stderr[-1000:]


def test_new_images_rerun_the_scores_never_an_ascent(atlas, tmp_path):
    from test_site import planned

    config = [f"layers=[{LAYER}]", f"filters=[{','.join(map(str, FILTERS))}]", "compare_classic=False",
              "dreams=[]", f"examples={atlas.parent / 'photos'}"]
    assert planned(atlas.parent, *config) == {}
    jobs = planned(atlas.parent, *config, "examples_top=8")  # another pool: the examples and scores rerun
    assert jobs.get("examples") == 1 and jobs.get("trust") == 1 and "ascend" not in jobs, jobs
    jobs = planned(atlas.parent, *config, "trust=False")
    assert "trust" not in jobs and "ascend" not in jobs, jobs
