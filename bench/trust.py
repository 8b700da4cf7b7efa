"""The trust scores (``pipeline/measure/trust.py``): what they cost beside the ascent, and what
they say per layer.

For each layer of ATLAS (an atlas with dataset examples), renders ``--filters`` of its
filters again at the atlas' settings (the baseline, timed) and scores those pictures (timed),
in this process, and prints seconds per filter and the ratio. Then, from the atlas' own
records, per layer: the mean natural MIS, synthetic MIS and specific score (95% bootstrap
interval over the filters); the specific score's margins over the median of the layer's other
pictures and over grey noise, and the share of filters whose picture beats both by 0.05 or
more (the specificity property); the trust verdicts; and the share of crossed tiles.

    python bench/trust.py atlas               # every layer the atlas has
    python bench/trust.py atlas --filters 0   # the per-layer tables only
    python bench/trust.py atlas --filters 0 --only 3,9,14   # ... over these filters of each layer
    python bench/trust.py atlas --filters 0 --subsets       # how many photos a verdict needs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.images import folder  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import interpretability, trust  # noqa: E402
from pipeline.measure.lpips import LPIPS, Similarity  # noqa: E402
from pipeline.model import description, network, weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402
from pipeline.output import layout  # noqa: E402
from pipeline.output.record import FilterExamples, FilterRecord, Null, Trust  # noqa: E402
from pipeline.site import pages  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure


def cost(atlas: Path, layer: str, filters: list[int], base, resolved, similarity) -> tuple[float, float]:
    """(ascent s/filter, trust s/filter) for ``filters`` of ``layer``, both timed here, both
    compiled first (a job compiles once; the layer's calibration is a job's, not a filter's)."""
    lyr = VGG16.layer(layer)
    s = settings.ascent(config.load(overrides={"outdir": str(atlas)}), layer)
    renderer = render.for_filters(network.cut_model(base, layer), lyr, s, resolved.preprocess)
    renderer.render(filters[:1], 2, progress=render.Progress(log=open(os.devnull, "w")))  # compile outside the timing
    t0 = time.perf_counter()
    pictures = [r.image for r in renderer.render(filters, s.steps, progress=render.Progress(log=open(os.devnull, "w")))]
    ascent = (time.perf_counter() - t0) / len(filters)
    scorer = interpretability.Scorer(base, VGG16, lyr.name, resolved.preprocess, similarity)
    images = json.loads(Path(layout.examples_manifest(atlas, layer)).read_text())["images"]
    found = FilterExamples.read(layout.example_files(atlas, layer, filters[0])[1])
    loader = interpretability.Loader(found.source, found.side, lyr)
    scorer.calibrate(loader, [x.name for x in folder.sources(found.source)[0]], 0)

    embedded = scorer.embed(pictures)
    noise = scorer.embed([interpretability.grey_noise(pictures[0].shape[0])])

    def score(f, picture):
        found = FilterExamples.read(layout.example_files(atlas, layer, f)[1])
        others = interpretability.Layer(filters, embedded, noise, np.zeros((1, 0, 1), np.float32))
        scorer.score(loader.pool(found, images), [picture], others, {f}, 0)
    score(filters[0], pictures[0])  # compile outside the timing, as the ascent's
    t0 = time.perf_counter()
    for f, picture in zip(filters, pictures):
        score(f, picture)
    return ascent, (time.perf_counter() - t0) / len(filters)


def subsets(atlas: Path, layer: str, base, resolved, similarity, sizes=(3, 4, 6, 9), draws: int = 10) -> dict:
    """How many query images a verdict needs: for each filter, random subsets of its pool (``n``
    strong and ``n`` weak images) each given a verdict of its own. Per ``n``: how often a subset
    gives a verdict at all ("specific" or "misleading"), and how often the whole pool (18 a
    side) agrees with the verdicts given: a verdict that the rest of the photos overturn is
    noise."""
    lyr = VGG16.layer(layer)
    scorer = interpretability.Scorer(base, VGG16, lyr.name, resolved.preprocess, similarity)
    images = json.loads(Path(layout.examples_manifest(atlas, layer)).read_text())["images"]
    records = [Trust.read(p) for p in sorted(Path(atlas, "trust", layer).glob("*.json"))]
    loader, given, held, embedded = None, {n: [] for n in sizes}, {n: [] for n in sizes}, {}
    for t in records:
        whole = trust.verdict(t)
        found = FilterExamples.read(layout.example_files(atlas, layer, t.filter)[1])
        loader = loader or interpretability.Loader(found.source, found.side, lyr)
        strong, weak = (loader.windows(p) for p in interpretability.pool(found, images))
        queries = similarity.embed(np.stack([interpretability.square(v) for v in strong + weak]))
        for g in [t.filter, *t.null.others]:  # each picture embedded once per layer
            if g not in embedded:
                embedded[g] = scorer.embed([layout.read_png(layout.filter_png(atlas, layer, g))])
        d_own = scorer.distances(queries, embedded[t.filter])[:, 0]
        d_oth = scorer.distances(queries, np.concatenate([embedded[g] for g in t.null.others], axis=1))
        rng = np.random.default_rng(t.filter)
        for n in sizes:
            for _ in range(draws):
                rows = np.r_[rng.choice(len(strong), n, replace=False), len(strong) + rng.choice(len(weak), n, replace=False)]
                nulls = trust.null(d_oth[rows], n)
                null = Null(t.null.others, float(np.median(nulls)), float(np.percentile(nulls, 90)), 0.0)
                said = trust.specificity(trust.specific(d_own[rows], d_oth[rows], n, 0), null, [99, 99])
                if said in ("specific", "worse"):
                    given[n].append(1)
                    held[n].append(said == whole)
                else:
                    given[n].append(0)
    return {n: (float(np.mean(given[n])), float(np.mean(held[n])) if held[n] else float("nan"), len(held[n]))
            for n in sizes}


def summary(atlas: Path, layer: str, only: set[int] | None) -> dict:
    """Per layer, over its filters: each score's mean and 95% interval, the specific score's
    margins, the share passing the specificity property, the verdicts and the crossed tiles."""
    records = [Trust.read(p) for p in sorted(Path(atlas, "trust", layer).glob("*.json"))
               if only is None or int(p.stem) in only]
    out: dict = {"filters": len(records), "kind": sorted({t.synthetic_kind for t in records})}
    for name, values in (("natural", [t.natural.mis for t in records if t.natural]),
                         ("synthetic", [t.synthetic.mis for t in records if t.synthetic]),
                         ("specific", [t.specific.mis for t in records if t.specific]),
                         ("path", [t.path for t in records if t.path is not None])):
        out[name] = trust.interval(np.asarray(values), 0)
    scored = [t for t in records if t.specific and t.null]
    others = np.array([t.specific.mis - t.null.median for t in scored])
    noise = np.array([t.specific.mis - t.null.noise for t in scored])
    out["margin_others"], out["margin_noise"] = trust.interval(others, 0), trust.interval(noise, 0)
    out["specific_share"] = float(np.mean((others >= 0.05) & (noise >= 0.05))) if scored else float("nan")
    out["verdicts"] = {}
    for t in records:
        out["verdicts"][trust.verdict(t)] = out["verdicts"].get(trust.verdict(t), 0) + 1
    filters = [FilterRecord.read(layout.filter_json(atlas, layer, t.filter)) for t in records]
    out["crossed"] = float(np.mean([bool(pages.crosses(rec, t)) for rec, t in zip(filters, records)])) if records else 0.0
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("atlas", type=Path)
    p.add_argument("--filters", type=int, default=2, help="filters a layer to time (0: none)")
    p.add_argument("--only", help="summarise only these filters of each layer, e.g. 3,9,14")
    p.add_argument("--subsets", action="store_true", help="how many images a verdict needs (pool subsets)")
    args = p.parse_args()
    only = {int(x) for x in args.only.split(",")} if args.only else None
    layers = [lyr.name for lyr in VGG16.layers if Path(args.atlas, "trust", lyr.name).is_dir()]
    if args.filters or args.subsets:
        resolved = prepare_weights(settings.weights(config.load()))
        base = weights.load_base(resolved, VGG16)
        similarity = Similarity(LPIPS, weights.cache_dir(None), base)
    if args.subsets:
        print("Per subset size: verdicts given, and the share of them the whole pool agrees with (verdicts)")
        print("| layer | " + " | ".join(f"{n} a side" for n in (3, 4, 6, 9)) + " |\n|---|---|---|---|---|")
        for layer in layers:
            got = subsets(args.atlas, layer, base, resolved, similarity)
            print(f"| {layer} | " + " | ".join(f"{got[n][0]:.0%}, {got[n][1]:.0%} ({got[n][2]})" for n in (3, 4, 6, 9))
                  + " |", flush=True)
    if args.filters:
        print("| layer | ascent s/filter | trust s/filter | trust / ascent |\n|---|---|---|---|")
        total = [0.0, 0.0]
        for layer in layers:
            chosen = sorted(int(p.stem) for p in Path(args.atlas, "trust", layer).glob("*.json"))[:args.filters]
            a, t = cost(args.atlas, layer, chosen, base, resolved, similarity)
            share = VGG16.layer(layer).filters  # the whole layer's weight in the atlas
            total[0], total[1] = total[0] + a * share, total[1] + t * share
            print(f"| {layer} | {a:.2f} | {t:.3f} | {t / a:.1%} |", flush=True)
        print(f"\nweighted by each layer's filters, the whole atlas: trust / ascent = {total[1] / total[0]:.1%}\n")

    def cell(m):
        return f"{m[0]:.2f} ({m[1]:.2f}–{m[2]:.2f})"
    rows = {layer: summary(args.atlas, layer, only) for layer in layers}
    print("| layer | filters | natural MIS (95%) | synthetic MIS (95%) | specific (95%) | path (95%) |")
    print("|---|---|---|---|---|---|")
    for layer, s in rows.items():
        print(f"| {layer} | {s['filters']} | {cell(s['natural'])} | {cell(s['synthetic'])}"
              f"{' (mixed)' if s['kind'] == ['mixed'] else ''} | {cell(s['specific'])} | {cell(s['path'])} |")
    print("\n| layer | margin over the others' median | margin over grey noise | both ≥ 0.05 | verdicts | crossed tiles |")
    print("|---|---|---|---|---|---|")
    for layer, s in rows.items():
        verdicts = ", ".join(f"{n} {k}" for k, n in sorted(s["verdicts"].items()))
        print(f"| {layer} | {cell(s['margin_others'])} | {cell(s['margin_noise'])} | {s['specific_share']:.0%} | "
              f"{verdicts} | {s['crossed']:.0%} |")


if __name__ == "__main__":
    main()
