"""Rotation twins per layer, estimated from a random sample where a whole layer is out of reach.

A twin pair needs both pictures (``pipeline/measure/twins.py``), so a sample of n filters holds only
about (n/N)^2 of a layer's pairs. This bench asks instead, for each of n filters A drawn at
random, whether A has a twin anywhere in the layer:

1. render A at the atlas' default settings;
2. one forward pass per transform measures every filter of the layer on A's picture turned:
   the filters B that pass the two tests needing only A's picture are A's candidates;
3. render A's strongest candidates (``--check``, the highest ratio first) and apply the last
   test (B's answer against B's own picture).

The share of sampled filters with a twin estimates the layer's, with a 95% Wilson interval;
times N it is the count a full atlas would show ("with a twin" on the network page).

    python bench/twins.py                                  # about 30 minutes on 2 CPU cores
    python bench/twins.py --layers block2_conv1 --filters 8  # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import twins  # noqa: E402
from pipeline.measure.probe import Probe  # noqa: E402
from pipeline.model import description, network  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure

LAYERS = ("block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
QUIET = open(os.devnull, "w")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion seen k times in n: honest at k = 0, where k/n is not."""
    centre, spread = (k + z * z / 2) / (n + z * z), z * np.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", nargs="+", default=list(LAYERS))
    p.add_argument("--filters", type=int, default=16, help="filters drawn per layer")
    p.add_argument("--check", type=int, default=4, help="candidates rendered per sampled filter")
    p.add_argument("--seed", type=int, default=2026, help="which filters are drawn")
    args = p.parse_args()

    cfg = config.load()
    resolved = prepare_weights(settings.weights(cfg))
    base = weights.load_base(resolved, VGG16)
    rows = []
    for layer_name in args.layers:
        t0 = time.perf_counter()
        lyr = VGG16.layer(layer_name)
        s = settings.ascent(config.load(overrides={"layers": [layer_name]}), layer_name)
        cut = network.cut_model(base, layer_name)
        renderer, probe = render.for_filters(cut, lyr, s, resolved.preprocess), Probe(cut, resolved.preprocess)
        rng = np.random.default_rng([args.seed, lyr.index])
        sample = sorted(rng.choice(lyr.filters, args.filters, replace=False).tolist())
        pictures = {r.filter: r.image for r in renderer.render(sample, s.steps, progress=render.Progress(log=QUIET))}
        candidates, own = twins.likely(probe.activations, np.stack([pictures[f] for f in sample]), sample)
        own = dict(zip(sample, own))
        checked = {}  # A -> its strongest candidate filters, at most --check of them
        for t, _ in sorted(candidates, key=lambda c: -c[0].ratio):
            bs = checked.setdefault(t.filter, [])
            if t.twin not in bs and len(bs) < args.check:
                bs.append(t.twin)
        extra = sorted({b for bs in checked.values() for b in bs} - set(pictures))
        if extra:
            results = renderer.render(extra, s.steps, progress=render.Progress(log=QUIET))
            done = [r.filter for r in results]
            own.update(zip(done, probe.activations(np.stack([r.image for r in results]))[np.arange(len(done)), done]))
        found = twins.confirm([(t, answer) for t, answer in candidates if t.twin in checked[t.filter]], own)
        k = len({t.filter for t in found})
        lo, hi = wilson(k, len(sample))
        rows.append((layer_name, lyr.filters, len(sample), len(candidates), len(extra), k, lo, hi,
                     time.perf_counter() - t0))
        print(f"{layer_name}: sample {sample}; {len(candidates)} candidates, {len(extra)} more rendered; "
              f"twins {[(t.filter, t.twin, t.transform, t.ratio) for t in found]}", file=sys.stderr, flush=True)

    print(f"\n{args.filters} filters per layer drawn with seed {args.seed}, default settings, "
          f"up to {args.check} candidates checked each\n")
    print("| layer | filters | sampled | candidates | rendered to check | sampled with a twin | share (95%) "
          "| estimated filters with a twin | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, total, n, cands, extra, k, lo, hi, seconds in rows:
        print(f"| {name} | {total} | {n} | {cands} | {extra} | {k} | {k / n:.0%} ({lo:.0%}–{hi:.0%}) | "
              f"{total * k / n:.0f} ({total * lo:.0f}–{total * hi:.0f}) | {seconds:.0f} |")


if __name__ == "__main__":
    main()
