"""Run the real ascent job (``python -m pipeline ascend --settings``) as its own process, and
read back what it measured: the shared part of bench/backends.py and bench/gpu.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import config  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.output import layout  # noqa: E402


@dataclass
class Job:
    """One ascent job's figures: the whole process, its start-up, the first segment's compile,
    the steady seconds per step (a batch of filters at once), and the batch sizes that fitted."""

    layer: str
    backend: str
    precision: str
    filters: int
    steps: int
    wall: float
    startup: float
    compile: float
    step: float
    batches: list[int]
    flops: float
    device: str
    outdir: Path
    log: str  # the job's first lines: what a user sees at its start

    @property
    def flop_rate(self) -> float:
        ascent = self.step * self.steps * len(self.batches)
        return self.flops / ascent if ascent else 0.0


def run(layer: str, filters: list[int], outdir: Path, overrides: dict, env: dict | None = None) -> Job:
    """The main render of ``filters`` of ``layer`` under the config's defaults plus ``overrides``."""
    cfg = config.load(overrides={"outdir": str(outdir), "layers": [layer], "compare_classic": False,
                                 "examples": "none", "dreams": [], **overrides})
    job = settings.ascent_job(cfg, layer, filters)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline", "ascend", "--settings", settings.to_json(job)],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{layer} on {cfg.backend}: the job failed:\n{proc.stderr[-3000:]}")
    manifest = json.loads(Path(layout.chunk_manifest(outdir, layer, filters[0])).read_text())
    main = manifest["timings"]["main"]
    first, rest = main["segments"][0], main["segments"][1:]
    step = sum(s for _, s in rest) / max(1, sum(n for n, _ in rest)) if rest else first[1] / first[0]
    return Job(layer, cfg.backend, cfg.precision, len(filters), job.main.steps, wall, manifest["setup_seconds"],
               max(0.0, first[1] - first[0] * step), step, main["batches"], manifest["rate"]["flops"],
               manifest["device"], outdir, "\n".join(proc.stderr.splitlines()[:12]))
