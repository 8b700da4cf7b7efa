"""Robustness as a photo editor moves a picture, against the render loop's kind of moves.

Reads the pictures of an atlas folder (any run's) and measures each one twice, with the same
8 draws of the same move sizes (±8 px, ±10°, 0.9-1.1):

- baseline: the moves resampled as the render loop resamples (``probe.render_loop_copies``:
  bilinear sampling without a low-pass, on the ImageNet mean colour), which the scorecard used
  before;
- photo editor: Pillow's bilinear turn and resize, antialiased when shrinking, on a grey canvas
  (``pipeline/measure/moves.py``), which the scorecard uses now.

Prints, per layer, both robustness figures (mean, min), their ratio, how many pictures reach
0.8 each way, and the records' strength and spectral share.

    snakemake --cores all --config outdir=robust layers=[block1_conv2,block2_conv2,block3_conv2,block4_conv2,block5_conv2] \\
        filters=[...] compare_classic=False examples=none dreams=[]
    python bench/robustness.py robust
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import moves, scorecard  # noqa: E402
from pipeline.measure.probe import Probe, render_loop_copies  # noqa: E402
from pipeline.model import description, network, weights  # noqa: E402
from pipeline.output import layout  # noqa: E402
from pipeline.output.record import FilterRecord  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure


# The hand-set threshold the scorecard judged robustness by until it measured photo references
# (docs/trust.md): what this bench's published table counts against.
THRESHOLD = 0.8


def holds(robustness: np.ndarray) -> int:
    """How many reach :data:`THRESHOLD` at the precision the pages show."""
    return int((np.round(robustness, scorecard.SHOWN["robustness"]) >= THRESHOLD).sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("atlas", type=Path)
    p.add_argument("--draws", type=int, default=scorecard.DRAWS)
    args = p.parse_args()

    resolved = prepare_weights(settings.weights(config.load()))
    base = weights.load_base(resolved, VGG16)
    print("| layer | pictures | render-loop moves (mean, min) | photo editor (mean, min) | ratio | ≥ 0.8, before → now "
          "| strength (min) | spectral share (mean, max) |")
    print("|---|---|---|---|---|---|---|---|")
    every = {"before": [], "now": []}
    for lyr in VGG16.layers:
        found = sorted((args.atlas / "filters" / lyr.name).glob("[0-9][0-9][0-9][0-9].png"))
        if not found:
            continue
        indices = [int(f.stem) for f in found]
        images = np.stack([layout.read_png(f) for f in found]).astype(np.float32)
        probe = Probe(network.cut_model(base, lyr.name), resolved.preprocess)
        own = probe.own(images, indices)
        before = probe.own(render_loop_copies(images, args.draws), np.repeat(indices, args.draws))
        now = probe.own(moves.moved_copies(images, args.draws), np.repeat(indices, args.draws))
        fires = own > 0
        before = before.reshape(len(found), args.draws).mean(1)[fires] / own[fires]
        now = now.reshape(len(found), args.draws).mean(1)[fires] / own[fires]
        every["before"] += list(before)
        every["now"] += list(now)
        cards = [FilterRecord.read(layout.filter_json(args.atlas, lyr.name, i)).scorecard for i in indices]
        cards = [c for c in cards if c]
        strength = min(c.strength for c in cards) if cards else float("nan")
        shares = [c.spectral_share for c in cards] or [float("nan")]
        print(f"| {lyr.name} | {int(fires.sum())} | {before.mean():.2f}, {before.min():.2f} | "
              f"{now.mean():.2f}, {now.min():.2f} | {now.mean() / before.mean():.2f} | "
              f"{holds(before)} → {holds(now)} | {strength:.2f} | "
              f"{np.mean(shares):.3f}, {max(shares):.3f} |")
    b, n = np.array(every["before"]), np.array(every["now"])
    print(f"\nall {len(n)} pictures: render-loop moves {b.mean():.3f}, photo editor {n.mean():.3f}, "
          f"ratio {n.mean() / b.mean():.3f}")


if __name__ == "__main__":
    main()
