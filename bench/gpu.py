"""The GPU check: a fixed slice of the atlas through the real jobs, on Keras' JAX backend, on a
machine with an NVIDIA GPU and JAX but no network and no TensorFlow.

It renders every filter of block4_conv3, block5_conv3, block3_conv1 and block1_conv2 (one real
ascent job per layer, as the atlas runs them) at the default settings, in float32 (which XLA
computes in TF32 on Ampere and newer) and in bfloat16, and prints per job the start-up, the
first segment's compile, the seconds per step, the FLOP rate against the chip's datasheet peak
and against a matrix product measured in the same run, and the largest batch that fitted. Then:

- the activation bfloat16's pictures reach against float32's, filter by filter;
- the same job run again in a new process, picture for picture (reproducible on a GPU?);
- the same job with XLA's compilation cache warm (what a cache saves per job);
- the dataset examples, twins and trust jobs of one layer on the GPU;
- the whole default atlas projected from the measured rates and overheads.

Everything it needs comes with the checkout (docs/running.md, "A GPU check"): pure-Python
packages the machine lacks as wheels, and the weights as a float16 copy that it upcasts. The
most telling layer runs first and ``--budget`` stops starting jobs after that many seconds, so
a run cut short still reports what it measured; the JSON is rewritten after every job.

    python bench/gpu.py --pack-weights              # here: bench/.gpu/vgg16-f16.npz (28 MB)
    bench/gpu.sh --budget 330                       # there (OUT=folder: the JSON goes there)
    python bench/gpu.py --cpu                       # a tiny slice on the CPU: what the test runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")  # the check's machine has no TensorFlow

from ascents import REPO, Job, run  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import estimate, settings  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.model import description  # noqa: E402

VGG16 = description.of("vgg16", Path())
BY_NAME, LAYERS = VGG16.by_name, VGG16.layers

PACKED = REPO / "bench" / ".gpu" / "vgg16-f16.npz"
SLICE = ("block4_conv3", "block5_conv3", "block3_conv1", "block1_conv2")  # most telling first
# Dense tensor-core peaks from the vendors' datasheets (SXM parts); float32 convolutions run in
# TF32 there, XLA's default. The matrix product measured in the run is the ceiling that counts.
DATASHEET = {"H100": {"float32": 494.7e12, "bfloat16": 989.4e12},
             "H200": {"float32": 494.7e12, "bfloat16": 989.4e12},
             "A100": {"float32": 156e12, "bfloat16": 312e12}}

CEILING = """
import json, sys, time
import jax, jax.numpy as jnp
n, rates = int(sys.argv[1]), {}
for name in ("float32", "bfloat16"):
    ka, kb = jax.random.split(jax.random.key(0))
    a, b = (jax.random.normal(k, (n, n), getattr(jnp, name)) for k in (ka, kb))
    product = jax.jit(lambda a, b: a @ b)
    product(a, b).block_until_ready()
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        product(a, b).block_until_ready()
        times.append(time.perf_counter() - t0)
    rates[name] = 2 * n**3 / sorted(times)[len(times) // 2]
print(json.dumps({"rates": rates, "devices": [str(d) for d in jax.devices()], "jax": jax.__version__}))
"""


def pack(path: Path) -> None:
    """The real conv weights as float16, read from the converted cache file."""
    resolved = weights.resolve(weights.DEFAULT, weights.cache_dir(), "auto", VGG16)
    weights.ensure(resolved, weights.DEFAULT, VGG16)
    archive = resolved.file.parent / weights.LPIPS_ARCHIVE
    pairs = weights.read_checkpoint(weights.lpips_checkpoint(archive, "vgg16"), VGG16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"{i}_{k}": a.astype(np.float16) for i, pair in enumerate(pairs) for k, a in zip("kb", pair)})
    print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")


def unpack(path: Path, cache: Path) -> None:
    """The float16 copy upcast to float32, converted where the default weights are looked for."""
    with np.load(path) as packed:
        pairs = [(packed[f"{i}_k"].astype(np.float32), packed[f"{i}_b"].astype(np.float32)) for i in range(len(LAYERS))]
    weights.convert(pairs, weights.resolve(weights.DEFAULT, cache, "auto", VGG16).file, VGG16)


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def ceiling(n: int) -> dict:
    """A large matrix product's FLOP rate in each precision, in a process of its own (so this one
    holds no GPU memory while the jobs plan their batches)."""
    proc = subprocess.run([sys.executable, "-c", CEILING, str(n)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Check:
    """The run's jobs, their figures and the JSON rewritten after each, within a time budget."""

    def __init__(self, root: Path, env: dict, cpu: bool, budget: float | None):
        self.root, self.env, self.cpu, self.budget = root, env, cpu, budget
        self.t0 = time.perf_counter()
        self.result: dict = {"device": "CPU" if cpu else gpu_name(), "started": time.strftime("%Y-%m-%d %H:%M UTC",
                             time.gmtime()), "jobs": [], "skipped": [], "checks": {}}

    def time_left(self) -> bool:
        return self.budget is None or time.perf_counter() - self.t0 < self.budget

    def save(self) -> None:
        self.result["elapsed_seconds"] = round(time.perf_counter() - self.t0, 1)
        if os.environ.get("OUT"):
            Path(os.environ["OUT"], "gpu-check.json").write_text(json.dumps(self.result, indent=1, default=str))

    def ascend(self, layer: str, n: int | None, overrides: dict, name: str, env: dict | None = None) -> Job | None:
        """One real ascent job of ``layer``'s first ``n`` filters (all: None) into its own folder."""
        if not self.time_left():
            self.result["skipped"].append(f"{name} {layer}")
            return None
        filters = list(range(n or BY_NAME[layer].filters))
        try:
            job = run(layer, filters, self.root / name, overrides, {**self.env, **(env or {})})
        except SystemExit as failed:  # a failure is a finding: keep it and go on
            self.result["jobs"].append({"layer": layer, "run": name, "failed": str(failed)[-2000:]})
            print(f"{name} {layer}: FAILED\n{str(failed)[-2000:]}", file=sys.stderr, flush=True)
            self.save()
            return None
        self.result["jobs"].append({"run": name, **{k: v for k, v in vars(job).items() if k != "outdir"}})
        print(f"{name} {layer}: {job.wall:.1f} s in all, start-up {job.startup:.1f} s, compile {job.compile:.1f} s, "
              f"{job.step:.4f} s/step, {job.flop_rate / 1e12:.1f} TFLOP/s, batches {job.batches}",
              file=sys.stderr, flush=True)
        self.save()
        return job

    def stage(self, kind: str, s, outdir: Path) -> dict:
        """Another job of the atlas (examples, twins, trust) as Snakemake runs it, timed."""
        if not self.time_left():
            self.result["skipped"].append(kind)
            return {"skipped": True}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline", kind, "--settings", settings.to_json(s)],
                              cwd=REPO, capture_output=True, text=True, env={**os.environ, **self.env})
        out = {"seconds": round(time.perf_counter() - t0, 1), "ok": proc.returncode == 0,
               "log": proc.stderr[-1500:]}
        print(f"{kind}: {'ok' if out['ok'] else 'FAILED'} in {out['seconds']} s", file=sys.stderr, flush=True)
        self.result["checks"][kind] = out
        self.save()
        return out


def same_pngs(a: Path, b: Path, layer: str) -> tuple[int, int]:
    """How many of ``layer``'s pictures in folder ``b`` are byte-identical to ``a``'s."""
    pngs = sorted(Path(a, "filters", layer).glob("*.png"))
    same = sum(p.read_bytes() == Path(b, "filters", layer, p.name).read_bytes()
               for p in pngs if Path(b, "filters", layer, p.name).exists())
    return same, len(pngs)


def activation_ratios(a: Path, b: Path, layer: str) -> list[float]:
    """Per filter, the activation ``b``'s saved picture reaches over ``a``'s (before the ReLU)."""
    out = []
    for rec in sorted(Path(a, "filters", layer).glob("*.json")):
        other = Path(b, "filters", layer, rec.name)
        if other.exists():
            x, y = (json.loads(p.read_text())["activation"]["png"] for p in (rec, other))
            out.append(y / x if x > 0 else float("nan"))
    return out


def projection(jobs: list[Job], precision: str) -> float | None:
    """The whole default atlas on this device in ``precision``, one job per layer: each layer's
    FLOPs at the rate measured on the nearest measured layer, plus the mean measured start-up
    and compile per job (twice: the classic comparison traces its own loop)."""
    mine = [j for j in jobs if j.precision == precision]
    if not mine:
        return None
    cfg = config.load()
    measured = {BY_NAME[j.layer].index: j.flop_rate for j in mine}
    overhead = float(np.mean([j.startup + 2 * j.compile for j in mine]))
    total = 0.0
    for lyr in LAYERS:
        nearest = min(measured, key=lambda i: abs(i - lyr.index))
        total += overhead + estimate.chunk_flops(cfg, lyr.name, lyr.filters) / measured[nearest]
    return total


def checks(check: Check, jobs: dict, overrides: dict, args) -> None:
    """After the slice: bfloat16 against float32, a rerun in a new process, a warm compilation
    cache, and the other jobs of one layer."""
    res, root = check.result["checks"], check.root
    for layer in SLICE:
        if ("float32", layer) in jobs and ("bfloat16", layer) in jobs:
            r = activation_ratios(root / "float32", root / "bfloat16", layer)
            res.setdefault("bf16_activation", {})[layer] = {
                "median": float(np.nanmedian(r)), "min": float(np.nanmin(r)),
                "share_at_least_0.95": float(np.mean(np.array(r) >= 0.95)), "filters": len(r)}
    first = next((lyr for lyr in reversed(SLICE) if ("bfloat16", lyr) in jobs), None)  # the cheapest
    if first:  # a new process and no cache: do the pictures come out the same?
        again = check.ascend(first, args.n, overrides["bfloat16"], "again",
                             {"JAX_ENABLE_COMPILATION_CACHE": "false", "JAX_COMPILATION_CACHE_DIR": ""})
        if again:
            res["rerun_identical"] = dict(zip(("same", "of"), same_pngs(root / "bfloat16", root / "again", first)))
    deep = next((lyr for lyr in SLICE if ("bfloat16", lyr) in jobs), None)  # the most telling
    if deep:  # the same job once its compiled programs are in the cache (a GPU's question: not --cpu)
        warm = None if args.cpu else check.ascend(deep, args.n, overrides["bfloat16"], "warm")
        if warm:
            cold = jobs[("bfloat16", deep)]
            res["warm_cache"] = {"layer": deep, "compile_cold": cold.compile, "compile_warm": warm.compile,
                                 "startup_cold": cold.startup, "startup_warm": warm.startup,
                                 "wall_cold": cold.wall, "wall_warm": warm.wall,
                                 "identical": dict(zip(("same", "of"), same_pngs(root / "bfloat16", root / "warm", deep)))}
        cfg = config.load(overrides={"outdir": str(root / "bfloat16"), "layers": [deep], "examples": "skimage",
                                     "compare_classic": False, "dreams": [], **overrides["bfloat16"],
                                     **({"examples_side": 64} if args.cpu else {})})
        cfg = replace(cfg, filters={deep: list(range(args.n or BY_NAME[deep].filters))})
        if check.stage("examples", settings.examples(cfg, [deep]), root).get("ok"):
            check.stage("twins", settings.twins(cfg, deep), root)
            check.stage("trust", settings.trust(cfg, deep), root)


def report(check: Check, jobs: list[Job], ceilings: dict) -> None:
    name = check.result["device"] or "an unknown GPU"
    peaks = next((v for k, v in DATASHEET.items() if k in name), {})
    rates = ceilings.get("rates", {})
    print(f"\nGPU check on {name}, Keras on JAX, {check.result['started']}\n")
    if rates:
        print("Matrix product measured here: " + ", ".join(f"{p} {r / 1e12:.2f} TFLOP/s" for p, r in rates.items()))
    print("\n| layer | precision | filters | steps | start-up s | compile s | s/step | FLOP rate "
          "| of datasheet peak | of measured product | largest batch | job s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for j in jobs:
        peak = f"{j.flop_rate / peaks[j.precision]:.0%}" if j.precision in peaks else "unknown"
        own = f"{j.flop_rate / rates[j.precision]:.0%}" if j.precision in rates else "unknown"
        print(f"| {j.layer} | {j.precision} | {j.filters} | {j.steps} | {j.startup:.1f} | {j.compile:.1f} | "
              f"{j.step:.4f} | {j.flop_rate / 1e12:.2f} TFLOP/s | {peak} | {own} | {max(j.batches)} | {j.wall:.1f} |")
    for key, value in check.result["checks"].items():
        print(f"\n{key}: {json.dumps(value if key not in ('examples', 'twins', 'trust') else {k: v for k, v in value.items() if k != 'log'})}")
    for precision in ("float32", "bfloat16"):
        whole = projection(jobs, precision)
        if whole:
            check.result.setdefault("projection_seconds", {})[precision] = whole
            print(f"\nProjection of the whole default atlas's ascents (4,224 filters, 13 jobs) in {precision} on this "
                  f"{'CPU' if check.cpu else 'GPU'}: about {estimate.duration(whole)}, from these measurements.")
    if check.result["skipped"]:
        print(f"\nSkipped for time: {', '.join(check.result['skipped'])}")
    check.save()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pack-weights", type=Path, nargs="?", const=PACKED,
                   help=f"write the float16 weights (default {PACKED.relative_to(REPO)}) and stop")
    p.add_argument("--weights-f16", type=Path, help="the float16 weights to upcast (no network there)")
    p.add_argument("--cpu", action="store_true", help="the same path, tiny, on the CPU: block1_conv2, 2 filters, "
                   "16 steps, 32 px")
    p.add_argument("--filters", type=int, default=None, help="filters per job (default: the whole layer)")
    p.add_argument("--precisions", default="float32,bfloat16")
    p.add_argument("--layers", type=int, default=len(SLICE), help="how many of the slice's layers")
    p.add_argument("--no-checks", action="store_true", help="only the slice's jobs")
    p.add_argument("--budget", type=float, default=None, help="start no job after this many seconds")
    args = p.parse_args()
    if args.pack_weights:
        return pack(args.pack_weights)
    cache = Path(tempfile.mkdtemp(prefix="vgg16-gpu-check-"))
    env = {"VGG16_ATLAS_CACHE": str(cache), "JAX_COMPILATION_CACHE_DIR": str(cache / "xla")} \
        if args.weights_f16 else {"JAX_COMPILATION_CACHE_DIR": str(cache / "xla")}
    if args.weights_f16:
        unpack(args.weights_f16, cache)
    check = Check(cache / "atlas", env, args.cpu, args.budget)
    args.n = 2 if args.cpu else args.filters
    precisions = args.precisions.split(",")
    base = {"backend": "jax", "device": "cpu" if args.cpu else "gpu"}
    if args.cpu:
        base.update(steps=16, size=32)  # two segments: the second is steady
    ceilings = ceiling(1024 if args.cpu else 8192)
    check.result["ceiling"] = ceilings
    overrides = {precision: {**base, "precision": precision} for precision in ("float32", "bfloat16")}
    jobs: dict[tuple[str, str], Job] = {}
    for layer in SLICE[:args.layers] if not args.cpu else SLICE[-1:]:
        for precision in precisions:
            job = check.ascend(layer, args.n, overrides[precision], precision)
            if job:
                jobs[(precision, layer)] = job
    if not args.no_checks:
        checks(check, jobs, overrides, args)
    report(check, list(jobs.values()), ceilings)


if __name__ == "__main__":
    main()
