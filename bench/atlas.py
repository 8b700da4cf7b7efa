"""The whole default atlas on this machine, from a large sample of each block, and how true the
run's first line is.

One layer of each of VGG16's five blocks (``--layers``), the first ``--filters`` filters of each, rendered by
the README's command (``snakemake --cores all``, every job: ascents with their classic
comparison, dataset examples, trust, twins, the default dream, grids, pages) into
``OUT/<first layer>-<precision>-<filters>`` (a rerun into the same folder renders nothing and reads it again).
Then, from Snakemake's own benchmark files:

- per layer, each job's measured seconds beside what the estimate planned for it, and the total
  of the run's first line beside the sum of its jobs (issue: within 15%);
- the rate each block's ascents reached: their FLOPs as the estimate counts them over the job's
  seconds less its start-up, tracing and the pictures' own work (what ``estimate.F32_CPU`` and
  ``estimate.BF16_CPU`` hold, measured this way), and its share of the matmul rate of the same
  precision, timed in this process before the run (``bench/throughput.py``'s 4096^3 products);
- the whole default atlas (4,224 filters): each layer's ascent job at its block's measured rate
  (its own FLOPs, start-up and tracing), its trust and twins jobs a start-up each and its
  block's measured seconds per filter beyond it, the examples scan and the dream as measured;
  beside the ascents' FLOPs at the matmul rate and the estimate's first line for the whole
  atlas.

    python bench/atlas.py                                   # auto, 64 filters: ~21 min on 2 cores
    python bench/atlas.py --precision float32 --filters 32  # float32
    python bench/atlas.py --filters 32 --layers block1_conv1,block2_conv1,block3_conv1,block4_conv1,block5_conv1
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import config  # noqa: E402
from pipeline.config import estimate, settings  # noqa: E402
from pipeline.images import folder  # noqa: E402
from pipeline.jobs import device as job_device  # noqa: E402

LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


def measured(root: Path, kind: str, name: str) -> float:
    """Wall seconds of one job, from Snakemake's benchmark file (0 where it did not run)."""
    path = root / "atlas" / "benchmarks" / kind / f"{name}.tsv"
    if not path.exists():
        return 0.0
    with open(path) as fh:
        return float(next(csv.DictReader(fh, delimiter="\t"))["s"])


def matmul(precision: str) -> float:
    sys.path.insert(0, str(ROOT / "bench"))
    from throughput import matmul_rate  # the same products bench/throughput.py times

    return matmul_rate(precision)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--filters", type=int, default=64)
    p.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"))
    p.add_argument("--trust", default="True", choices=("True", "False"))
    p.add_argument("--layers", default=",".join(LAYERS), help="one layer of each block, comma-separated")
    p.add_argument("--out", default="bench-atlas")
    args = p.parse_args()
    layers = args.layers.split(",")
    overrides = {"layers": layers, "filters": args.filters, "precision": args.precision,
                 "trust": args.trust == "True"}
    cfg = config.load(overrides=overrides | {"outdir": "/nonexistent"})  # for the plan: nothing done yet
    precision = estimate.planned_precision(args.precision, 0, job_device.cpu_bfloat16())
    peak = matmul(precision)
    root = Path(args.out) / f"{layers[0]}-{args.precision}-{args.filters}"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(root), "--cores", "all",
           "--config", f"layers=[{','.join(layers)}]", f"filters={args.filters}", f"precision={args.precision}",
           f"trust={args.trust}"]
    print("$", " ".join(cmd[1:]), flush=True)
    log = root.with_suffix(".log")
    root.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        subprocess.run(cmd, check=True, stdout=fh, stderr=subprocess.STDOUT)
    first = next((l.strip() for l in open(log) if l.startswith("estimate:")), "(no estimate line: nothing ran)")
    print(first)

    images = len(folder.sources(cfg.examples)[0]) if cfg.examples != "none" else 0
    cores = os.cpu_count() or 1
    dev = estimate.device(0, cores, None, cfg.backend, precision, args.precision == "auto")
    net, per_block = cfg.network, {}
    print(f"\nmatmul rate ({precision}, 4096^3, this process): {peak / 1e9:.0f} GFLOP/s\n")
    print("| layer | filters | ascent job s: measured (planned) | s/filter | ascents' rate GFLOP/s | of matmul "
          "| trust s (planned) | twins s (planned) |\n|---|---|---|---|---|---|---|---|")
    jobs = planned = 0.0
    for layer in layers:
        n = len(cfg.filters[layer])
        ascent, trust, twins = (measured(root, kind, name) for kind, name in
                                (("ascend", f"{layer}-0000"), ("trust", layer), ("twins", layer)))
        plan_a = estimate.job_seconds(cfg, layer, n, dev)
        plan_t = estimate.trust_seconds(cfg, layer, n, images, dev) if trust else 0.0
        plan_w = estimate.twins_seconds(cfg, layer, n, dev)
        rate = estimate.chunk_flops(cfg, layer, n) / (ascent - estimate.job_overhead(cfg, layer, n, dev))
        per_block[net.layer(layer).block] = (rate, max(0.0, trust - estimate.START) / n, max(0.0, twins - estimate.START) / n)
        jobs, planned = jobs + ascent + trust + twins, planned + plan_a + plan_t + plan_w
        print(f"| {layer} | {n} | {ascent:.0f} ({plan_a:.0f}) | {ascent / n:.2f} | {rate / 1e9:.0f} | {rate / peak:.0%} "
              f"| {trust:.0f} ({plan_t:.0f}) | {twins:.0f} ({plan_w:.0f}) |")
    rest = {kind: measured(root, kind, name) for kind, name in (("examples", "examples"), ("dream", "cat"))}
    every = sum(measured(root, path.parent.name, path.stem) for path in (root / "atlas" / "benchmarks").glob("*/*.tsv"))
    todo, extras = estimate.ahead(cfg, settings.chunks(cfg))
    first_line = estimate.plan(cfg, todo, dev, extras, images).seconds
    print(f"\nThe first line's total {estimate.duration(first_line)} ({first_line:.0f} s) against the sum of every job "
          f"{estimate.duration(every)} ({every:.0f} s): {first_line / every - 1:+.0%}. The ascent, trust and twins jobs: "
          f"planned {planned:.0f} s, measured {jobs:.0f} s ({planned / jobs - 1:+.0%}); "
          f"examples {rest['examples']:.0f} s, dream {rest['dream']:.0f} s")

    whole = config.load(overrides={"precision": args.precision, "trust": args.trust == "True",
                                   "outdir": "/nonexistent"})
    parts = {"ascents": 0.0, "trust": 0.0, "twins": 0.0}
    for lyr in net.layers:
        rate, trust_per, twins_per = per_block[lyr.block]
        n = lyr.filters
        parts["ascents"] += estimate.job_overhead(whole, lyr.name, n, dev) + estimate.chunk_flops(whole, lyr.name, n) / rate
        parts["trust"] += (estimate.START + trust_per * n) if trust_per else 0.0
        parts["twins"] += estimate.START + twins_per * n
    parts |= rest
    floor = estimate.atlas_flops(whole) / peak
    todo, extras = estimate.ahead(whole, settings.chunks(whole))
    line = estimate.plan(whole, todo, dev, extras, images)
    print(f"\nThe whole default atlas ({sum(l.filters for l in net.layers):,} filters), {args.precision} "
          f"({precision} here), from these measured blocks: {estimate.duration(sum(parts.values()))} "
          f"({', '.join(f'{k} {estimate.duration(v)}' for k, v in parts.items())}); "
          f"its ascents' FLOPs at the matmul rate {estimate.duration(floor)}; "
          f"the estimate's first line for it: {estimate.duration(line.seconds)}.")


if __name__ == "__main__":
    main()
