"""The GPU check: a fixed slice of the atlas through the real ascent jobs, on Keras' JAX backend,
on a machine with an NVIDIA GPU and JAX but no network and no TensorFlow.

It renders 64 filters each of block1_conv2, block3_conv1, block4_conv3 and block5_conv3 at the
default settings (one job per layer, as the atlas runs them) and prints, per job, the start-up
and compile time, the seconds per step, the FLOP rate reached against the chip's peak and the
largest batch that fitted; then a projection of the whole default atlas on this GPU from those
measured figures. Everything it needs comes with the checkout (see docs/running.md, "A GPU
check"): pure-Python packages the machine lacks as wheels, and the weights as a float16 copy
that it upcasts.

    python bench/gpu.py --pack-weights              # here: bench/.gpu/vgg16-f16.npz (28 MB)
    python bench/gpu.py --weights-f16 bench/.gpu/vgg16-f16.npz   # there (bench/gpu.sh)
    python bench/gpu.py --cpu                       # a tiny slice on the CPU: what the test runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")  # the check's machine has no TensorFlow

from ascents import REPO, run  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import estimate  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.model.vgg16 import BY_NAME, LAYERS  # noqa: E402

PACKED = REPO / "bench" / ".gpu" / "vgg16-f16.npz"
SLICE = ("block1_conv2", "block3_conv1", "block4_conv3", "block5_conv3")
# Dense TF32 peaks (XLA runs float32 convolutions in TF32 on these chips by default).
PEAKS = {"H100": 494.7e12, "H200": 494.7e12, "A100": 156e12, "L40S": 183e12}


def pack(path: Path) -> None:
    """The real conv weights as float16, read from the converted cache file."""
    resolved = weights.resolve(weights.DEFAULT, weights.cache_dir())
    weights.ensure(resolved, weights.DEFAULT)
    pairs = weights.read_checkpoint(weights.lpips_checkpoint(resolved.file.parent / weights.LPIPS_ARCHIVE))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"{i}_{k}": a.astype(np.float16) for i, pair in enumerate(pairs) for k, a in zip("kb", pair)})
    print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")


def unpack(path: Path, cache: Path) -> None:
    """The float16 copy upcast to float32, converted where the default weights are looked for."""
    with np.load(path) as packed:
        pairs = [(packed[f"{i}_k"].astype(np.float32), packed[f"{i}_b"].astype(np.float32)) for i in range(len(LAYERS))]
    weights.convert(pairs, weights.resolve(weights.DEFAULT, cache).file)


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def peak(name: str, cpu: bool) -> float | None:
    if cpu:
        return estimate.CPU_FLOPS_PER_CORE * (os.cpu_count() or 1)
    return next((v for k, v in PEAKS.items() if k in name), None)


def projection(jobs: list, cpu: bool) -> float:
    """The whole default atlas on this device, one job per layer: each layer's FLOPs at the rate
    measured on the nearest measured layer, plus the measured start-up and compile per job."""
    cfg = config.load()
    measured = {BY_NAME[j.layer].index: j.flop_rate for j in jobs}
    overhead = float(np.mean([j.startup + j.compile for j in jobs]))
    total = 0.0
    for lyr in LAYERS:
        nearest = min(measured, key=lambda i: abs(i - lyr.index))
        total += overhead + estimate.chunk_flops(cfg, lyr.name, lyr.filters) / measured[nearest]
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pack-weights", type=Path, nargs="?", const=PACKED,
                   help=f"write the float16 weights (default {PACKED.relative_to(REPO)}) and stop")
    p.add_argument("--weights-f16", type=Path, help="the float16 weights to upcast (no network there)")
    p.add_argument("--cpu", action="store_true", help="a tiny slice on the CPU: 2 filters, 16 steps, 32 px")
    p.add_argument("--filters", type=int, default=64)
    args = p.parse_args()
    if args.pack_weights:
        return pack(args.pack_weights)
    cache = Path(tempfile.mkdtemp(prefix="vgg16-gpu-check-"))
    env = {"VGG16_ATLAS_CACHE": str(cache)} if args.weights_f16 else {}
    if args.weights_f16:
        unpack(args.weights_f16, cache)
    layers = SLICE[:2] if args.cpu else SLICE
    n = 2 if args.cpu else args.filters
    overrides = {"backend": "jax", "device": "cpu" if args.cpu else "gpu"}
    if args.cpu:
        overrides.update(steps=16, size=32)  # two segments: the second is steady
    jobs = []
    for layer in layers:
        jobs.append(run(layer, list(range(n)), cache / "atlas", overrides, env))
        print(f"{layer}: {jobs[-1].step:.4f} s/step", file=sys.stderr, flush=True)
    name = "CPU" if args.cpu else gpu_name()
    top = peak(name, args.cpu)
    print(f"\nGPU check on {name or 'an unknown GPU'} ({jobs[0].device}), Keras on JAX, {n} filters a job, "
          f"{'16 steps at 32 px' if args.cpu else 'default settings'}\n")
    print("| layer | steps | start-up s | compile s | s/step | FLOP rate | of peak | largest batch |")
    print("|---|---|---|---|---|---|---|---|")
    for j in jobs:
        share = f"{j.flop_rate / top:.0%}" if top else "peak unknown"
        print(f"| {j.layer} | {j.steps} | {j.startup:.1f} | {j.compile:.1f} | {j.step:.4f} | "
              f"{j.flop_rate / 1e12:.2f} TFLOP/s | {share} | {max(j.batches)} |")
    whole = projection(jobs, args.cpu)
    print(f"\nProjection of the whole default atlas (4,224 filters, 13 jobs) on this "
          f"{'CPU' if args.cpu else 'GPU'}: about {estimate.duration(whole)}, from these measurements.")
    result = {"device": name, "jobs": [{k: v for k, v in vars(j).items() if k != "outdir"} for j in jobs],
              "projection_seconds": whole}
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu-check.json").write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
