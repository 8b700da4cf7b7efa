"""Image quality of ``fourier`` (the atlas default) against ``classic`` (Chollet 2016), measured.

For a sample of filters from all five blocks, renders both methods at their default settings
on the real weights and prints spectral share, transform robustness and strength (see
``pipeline/measure/scorecard.py``), the photos' median spectral share as the reference, and the time
per filter. Writes a side-by-side picture (classic top, fourier bottom).

    python bench/scorecard.py                      # defaults, about 10 minutes on 2 CPU cores
    python bench/scorecard.py --steps-fourier 128  # quicker look
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
from pipeline.images import photos  # noqa: E402
from pipeline.methods import classic  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import scorecard  # noqa: E402
from pipeline.measure.probe import Probe  # noqa: E402
from pipeline.model import description, network  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure

SAMPLE = {"block1_conv2": [0, 33], "block2_conv2": [5, 77], "block3_conv3": [10, 200],
          "block4_conv3": [0, 7, 100], "block5_conv3": [0, 11]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps-fourier", type=int, help="default: each layer's own")
    p.add_argument("--steps-classic", type=int, default=classic.STEPS)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--picture", default="docs/quality.png")
    args = p.parse_args()

    cfg = config.load()
    resolved = prepare_weights(settings.weights(cfg))
    base = weights.load_base(resolved, VGG16)
    shots = photos.scorecard_photos(args.size)
    photo_share = float(np.median([scorecard.spectral_share(ph) for ph in shots]))
    rows, tiles = [], {"classic": [], "fourier": []}
    for layer_name, filters in SAMPLE.items():
        lyr = VGG16.layer(layer_name)
        cut = network.cut_model(base, layer_name)
        probe = Probe(cut, resolved.preprocess)
        photo_acts = probe.activations(shots)
        for method, steps in (("classic", args.steps_classic), ("fourier", args.steps_fourier)):
            s = settings.ascent(config.load(overrides={"method": method, "size": args.size}), layer_name)
            steps = steps or s.steps
            r = render.for_filters(cut, lyr, s, resolved.preprocess)
            r.render(filters[:1], 2, progress=render.Progress(log=open(os.devnull, "w")))  # compile outside the timing
            t0 = time.perf_counter()
            results = r.render(filters, steps, progress=render.Progress(log=open(os.devnull, "w")))
            per_filter = (time.perf_counter() - t0) / len(filters)
            for res in results:
                img = res.image
                tiles[method].append(img)
                rows.append((layer_name, res.filter, method, steps, scorecard.spectral_share(img),
                             probe.robustness(img, res.filter), probe.strength(img, res.filter, photo_acts),
                             per_filter))
                print(f"{layer_name} {res.filter:3d} {method:7s} done", file=sys.stderr, flush=True)

    print(f"\nphotos (skimage.data, {len(shots)}): median spectral share {photo_share:.3f}\n")
    print("| layer | filter | method | steps | spectral share | robustness | strength | s/filter |")
    print("|---|---|---|---|---|---|---|---|")
    for layer_name, f, method, steps, share, rob, strength, secs in rows:
        print(f"| {layer_name} | {f} | {method} | {steps} | {share:.3f} | {rob:.2f} | {strength:.2f} | {secs:.1f} |")
    for method in ("classic", "fourier"):
        sel = [r for r in rows if r[2] == method]
        print(f"| **{method}** | mean | | | {np.mean([r[4] for r in sel]):.3f} | "
              f"{np.nanmean([r[5] for r in sel]):.2f} | min {min(r[6] for r in sel):.2f} | |")
    if args.picture:
        from pipeline.output import layout

        sheet = np.concatenate([np.concatenate(tiles["classic"], 1), np.concatenate(tiles["fourier"], 1)], 0)
        layout.write_png(args.picture, sheet)
        print(f"\npicture: {args.picture} (top: classic, bottom: fourier; filters as in the table)")


if __name__ == "__main__":
    main()
