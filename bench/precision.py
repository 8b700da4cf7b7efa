"""bfloat16 against float32 at the default settings: the quality guard of ``precision: auto`` and
its speed, per block, one after the other in one process.

For one layer per block, filters drawn at random (``--seed``; not the filters anything was
tuned on), each filter is rendered at the layer's default recipe three times with the real
renderer: in float32, in float32 again with another seed (``seed: 1``), and in bfloat16; the
first and the last timed after a compile. Every saved picture is then measured in float32, as
the scorecard measures it: the activation it reaches on its saved 8-bit PNG, and its
robustness under the scorecard's moves.

The guard is calibrated like the pages' crosses, against what a seed changes anyway: a second
float32 seed moves each filter's activation and robustness by some amount; bfloat16 holds in a
block where its changes against float32 (same seed, same filters) lie within the second
seed's, for both measures: their mean at most the seed's plus twice the standard error of the
difference (``measure/precision.py``; the table gives means and the largest). Last, the
whole default atlas's ascents on this machine, from each block's seconds per filter times its
filters: in float32, and in bfloat16 (what ``precision: auto`` runs where the guard holds).

    python bench/precision.py                 # 3 filters a block, about 20 minutes on 2 cores
    python bench/precision.py --filters 2 --seed 7   # a second draw
    python bench/precision.py --method classic       # the classic comparison every job draws
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

from pipeline import config, methods  # noqa: E402
from pipeline.config import estimate, settings  # noqa: E402
from pipeline.jobs.ascend import DTYPES  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure.precision import Changes, holds  # noqa: E402
from pipeline.measure.probe import Probe  # noqa: E402
from pipeline.model import description, network, weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure

LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
QUIET = open(os.devnull, "w")


def rendered(base, layer: str, filters: list[int], precision: str, mode: str, seed: int = 0,
             method: str | None = None) -> tuple[np.ndarray, float]:
    """The saved pictures (8-bit) of ``filters`` by ``method`` (None: the default's) and the
    seconds per filter, compiled first."""
    s = settings.ascent(config.load(overrides={"precision": precision, "seed": seed}), layer, method)
    renderer = render.for_filters(network.cut_model(base, layer, DTYPES[precision]), VGG16.layer(layer), s, mode)
    renderer.render(filters, 2, progress=render.Progress(log=QUIET))
    t0 = time.perf_counter()
    images = np.stack([r.image for r in renderer.render(filters, s.steps, progress=render.Progress(log=QUIET))])
    return np.clip(np.rint(images), 0, 255).astype(np.uint8), (time.perf_counter() - t0) / len(filters)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--filters", type=int, default=3)
    p.add_argument("--seed", type=int, default=2912)
    p.add_argument("--method", choices=list(methods.REGISTRY), default=None,
                   help="another method than the default's, e.g. classic: the comparison every job draws")
    args = p.parse_args()
    resolved = prepare_weights(settings.weights(config.load()))
    base = weights.load_base(resolved, VGG16)
    rng = np.random.default_rng(args.seed)
    rows, per_filter = [], {}
    print("| layer | filters | float32 s/filter | bfloat16 s/filter | speed-up | activation change: seed, bfloat16, "
          "mean (largest) | robustness change: seed, bfloat16, mean (largest) | guard |\n|---|---|---|---|---|---|---|---|",
          flush=True)
    for layer in LAYERS:
        lyr = VGG16.layer(layer)
        filters = sorted(int(f) for f in rng.choice(lyr.filters, args.filters, replace=False))
        (f32, t32), (b16, t16) = (rendered(base, layer, filters, prec, resolved.preprocess, method=args.method)
                                  for prec in ("float32", "bfloat16"))
        other, _ = rendered(base, layer, filters, "float32", resolved.preprocess, seed=1, method=args.method)
        probe = Probe(network.cut_model(base, layer), resolved.preprocess)
        seed, bf = (Changes.between(probe, f32, pics, filters) for pics in (other, b16))
        ok = holds(seed, bf)
        per_filter[lyr.block] = (t32, t16)
        rows.append((layer, filters, t32, t16, seed, bf, ok))
        print(f"| {layer} | {', '.join(map(str, filters))} | {t32:.2f} | {t16:.2f} | {t32 / t16:.2f}× | "
              f"{seed.activation.mean():.3f} ({seed.activation.max():.3f}), {bf.activation.mean():.3f} ({bf.largest[0]:.3f}) | "
              f"{np.nanmean(seed.robustness):.3f} ({np.nanmax(seed.robustness):.3f}), "
              f"{bf.robustness.mean():.3f} ({bf.largest[1]:.3f}) | "
              f"{'holds' if ok else 'FAILS'} |", flush=True)
    if args.method is None:
        print("\n" + projection(per_filter))
    print("Speed-ups per block, at this batch (estimate.BF16_CPU holds them at 32-64 filters a batch: bench/atlas.py): "
          + ", ".join(f"{b}: {t32 / t16:.2f}" for b, (t32, t16) in per_filter.items()))


def projection(per_filter: dict[int, tuple[float, float]]) -> str:
    """The whole default atlas's ascents on this machine from each block's measured seconds per
    filter: the main render in float32 and in bfloat16 (``precision: auto`` where the CPU
    computes it natively); each with the classic comparison in the same precision (its seconds
    scaled from the main render's by its steps). At three filters a batch: bench/atlas.py
    measures whole jobs."""
    cfg = config.load()
    classic_steps = settings.ascent(cfg, VGG16.layers[0].name, methods.COMPARISON).steps
    whole = {name: sum(per_filter[lyr.block][i] * lyr.filters * (1 + classic_steps / settings.ascent(cfg, lyr.name).steps)
                       for lyr in VGG16.layers)
             for i, name in enumerate(("float32", "bfloat16 (auto)"))}
    return ("The whole default atlas's ascents on this machine (the classic comparison included), "
            "from each block's measured seconds per filter: "
            + ", ".join(f"{name} {estimate.duration(t)}" for name, t in whole.items())
            + f"; auto is {whole['float32'] / whole['bfloat16 (auto)']:.2f}x float32.")


if __name__ == "__main__":
    main()
