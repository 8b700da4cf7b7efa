"""Trust scores (MIS, path similarity): the arithmetic by hand, LPIPS against its formula, and on
the real weights a filter's own picture against another filter's and grey noise, through a
real Snakemake run and the `python -m pipeline trust` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, last_line, run
from pipeline.measure import trust
from pipeline.output import layout
from pipeline.output.record import Trust

LAYERS = ("block3_conv1", "block4_conv2", "block5_conv1")
ATLAS = [f"layers=[{','.join(LAYERS)}]", "filters=4", "steps=48", "compare_classic=False", "dreams=[]"]


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
    got = trust.score(delta, seed=0)
    assert got.mis == pytest.approx(round(p.mean(), 4)) and got.accuracy == 1.0
    assert got.low <= got.mis <= got.high
    # Synthetic references are used whole by every task: two pictures, one negative picture.
    pics, negs = np.array([[0.1, 0.3], [0.2, 0.2], [0.8, 0.6], [0.7, 0.9]]), np.array([[0.9], [0.8], [0.2], [0.1]])
    d = trust.evidence(pics, negs, plan, False, False, 2)
    assert d[0] == pytest.approx((0.9 - 0.2) - (0.2 - 0.7))


def test_spearman_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 5, 40).astype(float), rng.normal(size=40)
    assert trust.spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert trust.spearman(np.ones(5), b[:5]) == 0.0


def test_lpips_is_its_formula_and_zero_for_the_same_image(base):
    from pipeline.measure import lpips
    from pipeline.model import weights
    from pipeline.model.vgg16 import preprocess

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


@pytest.fixture(scope="module")
def atlas(tmp_path_factory, real_weights) -> Path:
    workdir = tmp_path_factory.mktemp("trust")
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--config", *ATLAS])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas"


def test_every_filter_has_its_scores_with_intervals(atlas):
    for layer in LAYERS:
        for f in range(4):
            t = Trust.read(layout.trust_json(atlas, layer, f))
            assert (t.pool, t.references, t.tasks) == ([6, 6], 5, 36)  # skimage's 13 photos
            for m in (t.natural, t.synthetic):
                assert 0 <= m.low <= m.mis <= m.high <= 1
            assert t.synthetic_kind == "mixed" and t.similarity == "lpips-vgg"
            assert [p.layer for p in t.path_curve][-1] == layer and -1 <= t.path <= 1


def test_a_filters_own_picture_beats_another_filters_and_grey_noise(atlas, base):
    """Scored against each filter's own pool, its picture explains it better than the pictures
    of the layer's other filters (on average) and than grey noise, on three layers."""
    from pipeline.measure import interpretability
    from pipeline.measure.lpips import LPIPS, Similarity
    from pipeline.model import vgg16, weights
    from pipeline.images import photos
    from pipeline.output.record import FilterExamples

    sim = Similarity(LPIPS, weights.cache_dir(None), base)
    noise = np.clip(128 + 20 * np.random.default_rng(0).standard_normal((128, 128, 3)), 0, 255).astype(np.uint8)
    for layer in LAYERS:
        lyr = vgg16.layer(layer)
        scorer = interpretability.Scorer(base, lyr, "torch", sim)
        loader = interpretability.Loader("skimage", 224, lyr)
        scorer.calibrate(loader, [f"skimage:{name}" for name in photos.PHOTOS], 0)
        pictures = [layout.read_png(layout.filter_png(atlas, layer, f)) for f in range(4)]
        own, other, grey = [], [], []
        for f in range(4):
            found = FilterExamples.read(layout.example_files(atlas, layer, f)[1])
            strong, weak = (loader.windows(p) for p in interpretability.pool(found, 13))

            def scores(picture):
                got = scorer.score(strong, weak, [picture], [], 9, 0)
                return got["synthetic"].mis, got["path"]
            own.append(scores(pictures[f]))
            other += [scores(pictures[g]) for g in range(4) if g != f]
            grey.append(scores(noise))
        own, other, grey = (np.mean(x, axis=0) for x in (own, other, grey))
        assert own[0] > other[0] and own[0] > grey[0], (layer, own, other, grey)  # MIS
        assert own[1] > other[1] and own[1] > grey[1], (layer, own, other, grey)  # path


def test_the_scorer_command_scores_any_picture_as_the_atlas_does(atlas, tmp_path):
    """`python -m pipeline trust --outdir ATLAS LAYER FILTER IMAGE...`: one JSON line per image;
    the filter's own PNG gets exactly its record's synthetic MIS and path."""
    own = layout.filter_png(atlas, "block3_conv1", 2)
    elsewhere = tmp_path / "lucid.jpg"
    Image.open(layout.filter_png(atlas, "block3_conv1", 0)).resize((224, 224)).save(elsewhere)
    proc = run([sys.executable, "-m", "pipeline", "trust", "--outdir", str(atlas), "block3_conv1", "2",
                own, str(elsewhere)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [x["image"] for x in lines] == [own, str(elsewhere)]
    record = Trust.read(layout.trust_json(atlas, "block3_conv1", 2))
    assert lines[0]["mis"] == record.synthetic.mis and lines[0]["path"] == record.path
    assert lines[0]["natural_mis"] == record.natural.mis and lines[0]["kind"] == "mixed"
    assert 0 <= lines[1]["mis"] <= 1 and -1 <= lines[1]["path"] <= 1


@pytest.mark.parametrize("args, says", [
    (["block3_conv1", "2"], "give LAYER FILTER IMAGE"),
    (["block3_conv1", "0-3", "x.png"], "is not one filter"),
    (["block3_conv1", "2", "missing.png"], "missing.png"),
    (["block9_conv1", "2", "x.png"], "block9_conv1"),
])
def test_the_scorer_command_says_what_is_wrong_in_one_line(atlas, args, says):
    proc = run([sys.executable, "-m", "pipeline", "trust", "--outdir", str(atlas), *args])
    assert proc.returncode == 2 and says in last_line(proc.stderr), proc.stderr[-1000:]
    assert "Traceback" not in proc.stderr


def test_new_images_rerun_the_scores_never_an_ascent(atlas, tmp_path):
    from test_site import planned

    config = ATLAS
    assert planned(atlas.parent, *config) == {}
    jobs = planned(atlas.parent, *config, "examples_top=8")  # another pool: the examples and scores rerun
    assert jobs.get("examples") == 1 and jobs.get("trust") == len(LAYERS) and "ascend" not in jobs, jobs
    jobs = planned(atlas.parent, *config, "trust=False")
    assert "trust" not in jobs and "ascend" not in jobs, jobs
