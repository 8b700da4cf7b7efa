"""Per-job figures of a rendered atlas, and what they mean for the whole atlas on GPUs.

For every ascent job, from its manifest, its filters' records and Snakemake's benchmark file:
wall time, start-up (process start to the first step: imports, weights, model), the ascent
itself (summed from the records; the first batch of each method includes tracing the step
loop), what is left (measuring passes, writing, Snakemake's wrapper) and peak memory.

Then an estimate of the default atlas on GPUs: its FLOPs (pipeline/config/estimate.py) at a GPU's
rate, plus each job's overhead as measured here (the ascent jobs', and the twins and examples
jobs', which are nearly all start-up). Run it on an atlas rendered at tiny
settings (1 step, 32 px), where a job is nearly all overhead:

    snakemake --cores all --config steps=1 size=32 dreams=[]
    python bench/jobs.py atlas/
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import config  # noqa: E402
from pipeline.config import estimate  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.output import layout  # noqa: E402
from pipeline.output.record import FilterRecord  # noqa: E402

H100_FLOPS = estimate.GPU_FLOPS  # executed FLOP/s assumed for an H100 (dense TF32 convolutions)


def tracing(seconds: list[float]) -> float | None:
    """Tracing the step loop, from a job's filters in order: its first batch took longer than
    the next batch of the same size by about that. None for a job of one batch."""
    runs: list[list[float]] = []
    for value in seconds:
        if runs and runs[-1][0] == value:
            runs[-1].append(value)
        else:
            runs.append([value])
    if len(runs) < 2 or len(runs[0]) != len(runs[1]):
        return None
    return max(0.0, (runs[0][0] - runs[1][0]) * len(runs[0]))


def rule_walls(root: Path, kind: str) -> list[float]:
    """Wall seconds of every job of one rule, from Snakemake's benchmark files."""
    out = []
    for path in sorted((root / "benchmarks" / kind).glob("*.tsv")):
        with open(path) as fh:
            out.append(float(next(csv.DictReader(fh, delimiter="\t"))["s"]))
    return out


def main(outdir: str) -> None:
    root = Path(outdir)
    rows, traces = [], []
    for manifest in sorted((root / "manifests" / "ascend").glob("*.json")):
        m = json.loads(manifest.read_text())
        name = manifest.stem
        with open(layout.benchmark(root, "ascend", name)) as fh:
            bench = next(csv.DictReader(fh, delimiter="\t"))
        ascent = 0.0
        for render, done in m["renders"].items():
            per_filter = [FilterRecord.read(layout.render_files(root, render, m["layer"], f)[1]).seconds for f in done]
            ascent += sum(per_filter)
            trace = tracing(per_filter)
            if trace is not None:
                traces.append(trace)
        wall = float(bench["s"])
        rows.append((name, len(m["filters"]), wall, m["setup_seconds"], ascent, float(bench["max_rss"])))
    if not rows:
        sys.exit(f"no ascent manifests under {root}/manifests/ascend; render an atlas first")
    print("| ascent job | filters | wall s | start-up s | ascent s | rest s | peak memory MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, n, wall, setup, ascent, rss in rows:
        print(f"| {name} | {n} | {wall:.1f} | {setup:.1f} | {ascent:.1f} | {wall - setup - ascent:.1f} | {rss:.0f} |")
    walls, setups = [r[2] for r in rows], [r[3] for r in rows]
    rest = sum(r[2] - r[3] - r[4] for r in rows) / len(rows)
    trace = sum(traces) / len(traces) if traces else float("nan")
    print(f"\n{len(rows)} ascent jobs: {sum(walls):.0f} s of wall time; start-up {sum(setups) / len(rows):.1f} s "
          f"per job; tracing {trace:.1f} s per layer and method ({len(traces)} jobs of several batches); "
          f"after the ascent (measuring, the last writes) {rest:.1f} s per job")

    # The default atlas on GPUs: its FLOPs at the GPU's rate, plus per job the start-up, one
    # tracing per method and the tail measured here. This machine's CPU stands in for a GPU
    # box's; the measuring passes and writing overlap the GPU's work or are a few FLOPs, so
    # the tail counts in full only as an upper bound.
    # The twins jobs (one per layer) and the examples job are nearly all start-up at any
    # settings on a GPU (a few forward passes), so their wall time here stands in for theirs.
    twins, found = rule_walls(root, "twins"), rule_walls(root, "examples")
    side = [sum(twins) / len(twins)] * len(twins) + found
    print(f"twins jobs: {len(twins)}, {sum(twins) / max(1, len(twins)):.1f} s each; examples job: "
          f"{sum(found):.1f} s (the 13 skimage photos)")
    cfg = config.load()
    chunks = settings.chunks(cfg)
    methods = 2 if cfg.compare_classic else 1
    per_job = sum(setups) / len(rows) + methods * trace
    flops = estimate.atlas_flops(cfg)
    print(f"\nDefault atlas: {flops / 1e15:.1f} PFLOP executed in {len(chunks)} ascent jobs; overhead per "
          f"job {per_job:.1f} s (start-up + {methods} tracings), up to {per_job + rest:.1f} s with the tail")
    print("| GPUs | arithmetic at 400 TFLOP/s | overhead | whole atlas | overhead share |")
    print("|---|---|---|---|---|")
    for gpus in (1, 8):
        # Jobs are whole layers: with several GPUs, each goes to the first free one.
        lanes = [0.0] * gpus
        for t in sorted([estimate.chunk_flops(cfg, layer, len(fs)) / H100_FLOPS + per_job
                         for (layer, _), fs in chunks.items()] + side, reverse=True):
            lanes[lanes.index(min(lanes))] += t
        whole = max(lanes)
        overhead = (len(chunks) * per_job + sum(side)) / gpus
        print(f"| {gpus} | {estimate.duration(flops / H100_FLOPS / gpus)} | {estimate.duration(overhead)} "
              f"| {estimate.duration(whole)} | {overhead / (overhead + flops / H100_FLOPS / gpus):.0%} |")
    print(f"\nOn this machine's CPU, the default atlas: about "
          f"{estimate.duration(flops / (estimate.CPU_FLOPS_PER_CORE * 2))} (2 cores, float32).")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "atlas")
