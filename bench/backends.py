"""TensorFlow against JAX: whole ascent processes on the same filters of three layers, at the
default settings, one after the other on this machine.

For each layer and backend: the process's wall time, its start-up (imports, weights, model),
the first segment's compile, the steady seconds per step of the batch, and JAX's ratio to
TensorFlow; then how close the pictures are (the activation each reaches, on TensorFlow's
measure, and the mean pixel difference after the same steps).

    python bench/backends.py                      # 4 filters of each layer
    python bench/backends.py --filters 2 --steps 64   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ascents import run

LAYERS = ("block1_conv2", "block3_conv1", "block5_conv1")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", nargs="+", default=list(LAYERS))
    p.add_argument("--filters", type=int, default=4)
    p.add_argument("--steps", type=int, default=None, help="default: each layer's recipe")
    args = p.parse_args()
    extra = {"steps": args.steps} if args.steps else {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for layer in args.layers:
            jobs = {name: run(layer, list(range(args.filters)), Path(tmp, name), {"backend": name, **extra})
                    for name in ("tensorflow", "jax")}
            tf, jax = jobs["tensorflow"], jobs["jax"]
            acts, diffs = [], []
            for f in range(args.filters):
                recs = [json.loads(Path(j.outdir, "filters", layer, f"{f:04d}.json").read_text()) for j in (tf, jax)]
                acts.append(recs[1]["activation"]["png"] / recs[0]["activation"]["png"])
                pics = [np.asarray(Image.open(Path(j.outdir, "filters", layer, f"{f:04d}.png")), float) for j in (tf, jax)]
                diffs.append(np.abs(pics[0] - pics[1]).mean())
            rows.append((layer, tf, jax, float(np.mean(acts)), min(acts), max(acts), float(np.mean(diffs))))
            print(f"{layer}: tf {tf.step:.3f} s/step, jax {jax.step:.3f} s/step", file=sys.stderr, flush=True)
    print(f"\n{args.filters} filters per layer, one batch, {tf.device}; default settings"
          f"{' at ' + str(args.steps) + ' steps' if args.steps else ''}\n")
    print("| layer | steps | backend | process s | start-up s | compile s | s/step (batch) | JAX/TF s/step "
          "| activation JAX/TF (min–max) | mean pixel difference |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for layer, tf, jax, act, lo, hi, diff in rows:
        for j in (tf, jax):
            ratio = f"{jax.step / tf.step:.2f}" if j is jax else ""
            close = f"{act:.3f} ({lo:.3f}–{hi:.3f})" if j is jax else ""
            pixels = f"{diff:.1f} of 255" if j is jax else ""
            print(f"| {layer} | {j.steps} | {j.backend} | {j.wall:.1f} | {j.startup:.1f} | {j.compile:.1f} | "
                  f"{j.step:.3f} | {ratio} | {close} | {pixels} |")


if __name__ == "__main__":
    main()
