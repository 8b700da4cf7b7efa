"""The trust scores (``pipeline/measure/trust.py``): what they cost beside the ascent, and what
they say per layer.

For each layer of ATLAS (an atlas with dataset examples), renders ``--filters`` of its
filters again at the atlas' settings (the baseline, timed) and scores those pictures (timed),
in this process, and prints seconds per filter and the ratio. Then, from the atlas' own trust
records, per layer: natural and synthetic MIS and path similarity, mean over the layer's
filters with a 95% bootstrap interval over filters.

    python bench/trust.py atlas               # every layer the atlas has
    python bench/trust.py atlas --filters 0   # the per-layer table only
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
from pipeline.model import network, vgg16, weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402
from pipeline.output import layout  # noqa: E402
from pipeline.output.record import FilterExamples, Trust  # noqa: E402


def cost(atlas: Path, layer: str, filters: list[int], base, resolved, similarity) -> tuple[float, float]:
    """(ascent s/filter, trust s/filter) for ``filters`` of ``layer``, both timed here, both
    compiled first (a job compiles once; the layer's calibration is a job's, not a filter's)."""
    lyr = vgg16.layer(layer)
    s = settings.ascent(config.load(overrides={"outdir": str(atlas)}), layer)
    renderer = render.for_filters(network.cut_model(base, layer), lyr, s, resolved.preprocess)
    renderer.render(filters[:1], 2, log=open(os.devnull, "w"))  # compile outside the timing
    t0 = time.perf_counter()
    pictures = [r.image for r in renderer.render(filters, s.steps, log=open(os.devnull, "w"))]
    ascent = (time.perf_counter() - t0) / len(filters)
    scorer = interpretability.Scorer(base, lyr, resolved.preprocess, similarity)
    images = json.loads(Path(layout.examples_manifest(atlas)).read_text())["images"]
    found = FilterExamples.read(layout.example_files(atlas, layer, filters[0])[1])
    loader = interpretability.Loader(found.source, found.side, lyr)
    scorer.calibrate(loader, [x.name for x in folder.sources(found.source)[0]], 0)

    def score(f, picture):
        found = FilterExamples.read(layout.example_files(atlas, layer, f)[1])
        strong, weak = (loader.windows(p) for p in interpretability.pool(found, images))
        scorer.score(strong, weak, [picture], [], len(found.examples), 0)
    score(filters[0], pictures[0])  # compile outside the timing, as the ascent's
    t0 = time.perf_counter()
    for f, picture in zip(filters, pictures):
        score(f, picture)
    return ascent, (time.perf_counter() - t0) / len(filters)


def summary(atlas: Path, layer: str) -> dict:
    """Mean and 95% interval over the layer's filters of each score."""
    records = [Trust.read(p) for p in sorted(Path(atlas, "trust", layer).glob("*.json"))]
    out = {"filters": len(records), "kind": sorted({t.synthetic_kind for t in records})}
    for name, values in (("natural", [t.natural.mis for t in records if t.natural]),
                         ("synthetic", [t.synthetic.mis for t in records if t.synthetic]),
                         ("path", [t.path for t in records if t.path is not None]),
                         ("baseline", [t.path_baseline for t in records if t.path_baseline is not None])):
        out[name] = trust.interval(np.asarray(values), 0)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("atlas", type=Path)
    p.add_argument("--filters", type=int, default=2, help="filters a layer to time (0: none)")
    args = p.parse_args()
    layers = [lyr.name for lyr in vgg16.LAYERS if Path(args.atlas, "trust", lyr.name).is_dir()]
    resolved = prepare_weights(settings.weights(config.load()))
    base = weights.load_base(resolved)
    if args.filters:
        similarity = Similarity(LPIPS, weights.cache_dir(None), base)
        print("| layer | ascent s/filter | trust s/filter | trust / ascent |\n|---|---|---|---|")
        total = [0.0, 0.0]
        for layer in layers:
            chosen = sorted(int(p.stem) for p in Path(args.atlas, "trust", layer).glob("*.json"))[:args.filters]
            a, t = cost(args.atlas, layer, chosen, base, resolved, similarity)
            share = vgg16.layer(layer).filters  # the whole layer's weight in the atlas
            total[0], total[1] = total[0] + a * share, total[1] + t * share
            print(f"| {layer} | {a:.2f} | {t:.3f} | {t / a:.1%} |", flush=True)
        print(f"\nweighted by each layer's filters, the whole atlas: trust / ascent = {total[1] / total[0]:.1%}\n")
    print("| layer | filters | natural MIS (95%) | synthetic MIS (95%) | path (95%) | natural baseline |")
    print("|---|---|---|---|---|---|")
    for layer in layers:
        s = summary(args.atlas, layer)

        def cell(m):
            return f"{m[0]:.2f} ({m[1]:.2f}–{m[2]:.2f})"
        print(f"| {layer} | {s['filters']} | {cell(s['natural'])} | {cell(s['synthetic'])} "
              f"{'(mixed)' if s['kind'] == ['mixed'] else ''} | {cell(s['path'])} | {s['baseline'][0]:.2f} |")


if __name__ == "__main__":
    main()
