"""How many steps a filter needs: the default recipe and ``maco`` against Lucid's, measured.

For filters drawn at random from one layer of each block, it renders every recipe on the real
weights in one process and prints, per block and recipe, against executed FLOPs and seconds:

- activation reached (the filter's mean pre-ReLU activation on the final image), and its
  share of what the reference recipe reaches;
- strength against the photos ``skimage.data`` ships, robustness (copies moved as a photo
  editor moves them, ``pipeline/measure/moves.py``) and spectral share
  (``pipeline/measure/scorecard.py``).

The reference is Lucid's recipe as the atlas ran it before: Adam at a constant 0.05, 512 steps,
12 px reflect padding. Seconds are per filter, timed after a warm-up (tracing is start-up cost).

    python bench/convergence.py                          # about 45 minutes on 2 CPU cores
    python bench/convergence.py --filters 1 --layers block3_conv2 block5_conv2   # a quick look
    python bench/convergence.py --recipe 'x: {steps: 96, fourier: {lr: 0.1}}'    # try one
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
import yaml  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import estimate  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.images import photos  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import scorecard  # noqa: E402
from pipeline.measure.probe import Probe  # noqa: E402
from pipeline.model import description, network  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure

LAYERS = ("block1_conv2", "block2_conv2", "block3_conv2", "block4_conv2", "block5_conv2")
LUCID = {"fourier": {"schedule": "lucid"}}  # Lucid's recipe by name: its steps, rate and canvas
QUIET = open(os.devnull, "w")


def sample(layer: str, n: int, seed: int) -> list[int]:
    """``n`` filters of ``layer`` drawn at random: the bench must not be tuned on chosen ones."""
    rng = np.random.default_rng([seed, VGG16.layer(layer).index])
    return sorted(rng.choice(VGG16.layer(layer).filters, n, replace=False).tolist())


def run_recipe(cut, lyr, filters, overrides: dict, mode: str, probe, photo_acts) -> dict:
    cfg = config.load(overrides={"layers": [lyr.name], **overrides})
    s = settings.ascent(cfg, lyr.name)
    r = render.for_filters(cut, lyr, s, mode)
    # Trace outside the timing: two shapes make tf.function trace a general one, which the
    # timed run then reuses.
    r.render(filters[:1], 2, progress=render.Progress(log=QUIET))
    r.render(filters[:2], 3, progress=render.Progress(log=QUIET))
    t0 = time.perf_counter()
    results = r.render(filters, s.steps, progress=render.Progress(log=QUIET))
    seconds = (time.perf_counter() - t0) / len(filters)
    side = s.size + 2 * s.pad
    images = [res.image for res in results]
    return {
        "steps": s.steps, "seconds": seconds,
        "gflop": estimate.ascent_flops(VGG16, lyr.name, s.steps, side) / 1e9,
        "activation": [res.final for res in results],
        "strength": [probe.strength(im, res.filter, photo_acts) for im, res in zip(images, results)],
        "robustness": [probe.robustness(im, res.filter) for im, res in zip(images, results)],
        "share": [scorecard.spectral_share(im) for im in images],
        "images": images,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", nargs="+", default=list(LAYERS))
    p.add_argument("--filters", type=int, default=3, help="filters drawn per layer")
    p.add_argument("--seed", type=int, default=2026, help="which filters are drawn")
    p.add_argument("--recipe", action="append", default=[],
                   help="'name: {config overrides}' (YAML); default: the reference and the default")
    p.add_argument("--no-reference", action="store_true")
    p.add_argument("--picture", default="", help="write a side-by-side picture here")
    args = p.parse_args()

    recipes = {} if args.no_reference else {"lucid 512": LUCID}
    for text in args.recipe:
        recipes.update(yaml.safe_load(text))
    if not args.recipe:
        recipes["default"] = {}
        recipes["maco"] = {"method": "maco"}  # Fel et al. 2023, on the default's schedule and moves

    cfg = config.load()
    resolved = prepare_weights(settings.weights(cfg))
    base = weights.load_base(resolved, VGG16)
    shots = photos.scorecard_photos(128)
    rows, tiles = [], {name: [] for name in recipes}
    for layer_name in args.layers:
        lyr = VGG16.layer(layer_name)
        filters = sample(layer_name, args.filters, args.seed)
        cut = network.cut_model(base, layer_name)
        probe = Probe(cut, resolved.preprocess)
        photo_acts = probe.activations(shots)
        ref = None
        for name, overrides in recipes.items():
            out = run_recipe(cut, lyr, filters, overrides, resolved.preprocess, probe, photo_acts)
            ref = ref or out
            tiles[name] += out["images"]
            share_of_ref = np.mean(np.array(out["activation"]) / np.array(ref["activation"]))
            rows.append((layer_name, name, out, share_of_ref, out["seconds"] / ref["seconds"]))
            print(f"{layer_name} {filters} {name}: activation {np.round(out['activation'], 1).tolist()} "
                  f"({share_of_ref:.0%} of reference) in {out['seconds']:.1f} s/filter, robustness "
                  f"{np.round(out['robustness'], 2).tolist()}, strength {np.round(out['strength'], 2).tolist()}, "
                  f"share {np.round(out['share'], 3).tolist()}", file=sys.stderr, flush=True)

    print(f"\n{args.filters} filters per layer drawn with seed {args.seed}; means per layer\n")
    print("| layer | recipe | steps | s/filter | GFLOP/filter | activation | of reference | time of reference "
          "| strength (min) | robustness | spectral share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for layer_name, name, out, share, time_share in rows:
        print(f"| {layer_name} | {name} | {out['steps']} | {out['seconds']:.1f} | {out['gflop']:.0f} | "
              f"{np.mean(out['activation']):.1f} | {share:.0%} | {time_share:.0%} | "
              f"{min(out['strength']):.2f} | {np.nanmean(out['robustness']):.2f} | {np.mean(out['share']):.3f} |")
    for name in recipes:
        sel = [r for r in rows if r[1] == name]
        print(f"| **all** | **{name}** | | {np.mean([r[2]['seconds'] for r in sel]):.1f} | | | "
              f"{np.mean([r[3] for r in sel]):.0%} | {np.mean([r[4] for r in sel]):.0%} | "
              f"{min(min(r[2]['strength']) for r in sel):.2f} | "
              f"{min(np.nanmean(r[2]['robustness']) for r in sel):.2f} (worst layer) | "
              f"{max(max(r[2]['share']) for r in sel):.3f} (max) |")
    if args.picture:
        from pipeline.output import layout

        sheet = np.concatenate([np.concatenate(t, 1) for t in tiles.values()], 0)
        layout.write_png(args.picture, sheet)
        print(f"\npicture: {args.picture} (rows: {', '.join(recipes)}; filters as in the table)")


if __name__ == "__main__":
    main()
