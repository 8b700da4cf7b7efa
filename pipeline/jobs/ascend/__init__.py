"""The ascent job: one chunk of a layer's filters, the main render and the classic comparison.

Three ideas, a module each: what is already done and where a killed run picks up
(``resume``), running the batches (``batches``: out-of-memory halving, the negative pictures,
progress and time left), and writing a filter (``writing``: pictures, then the record). Each
filter's PNG and record are written atomically, the record last, so a record means its images
are complete. Filters whose record already holds these settings are kept: a job killed
half-way resumes, and a changed classic setting redoes only the classic images.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ...config import estimate, recipes, settings
from ...images import photos
from ...measure import circuits
from ...measure.probe import Probe
from ...model import network
from ...optvis import backend, render
from ...output import layout
from ..common import Preflight, preflight, say
from ..common import Terminal
from .batches import Batches, Clock, Render
from .resume import Resume
from .writing import FilterWriter

DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


class Ascend:
    """One ascent job: the renders of its chunk, each batch by batch, and the chunk's manifest."""

    def __init__(self, job: settings.AscentJob, threads: int | None = None):
        self.asked = job  # as Snakemake handed it: its digest
        self.pre = preflight(job.main.runtime, threads)
        self.layer = self.pre.network.layer(job.layer)
        self.job = resolved(job, self.pre)
        self.base = self.pre.base()
        self.terminal = Terminal()  # progress into the log, and about once a minute into the terminal
        self.resume = Resume(job.outdir, job.layer, self.pre.weights)
        writer = FilterWriter(job.outdir, self.layer, self.pre, circuits.kernels(self.base, self.pre.network))
        self.batches = Batches(self.resume, writer.write, self.terminal)
        self.setup: float | None = None  # seconds from the process' start to the first step
        self.flops = self.seconds = 0.0  # the ascents' arithmetic and time: the next run's rate
        self.timings: dict[str, dict] = {}  # per render: its batches and segments, for the benches

    def run(self) -> Path:
        """Every render of the chunk, then the chunk's manifest (the rule's declared output)."""
        job = self.job
        renders = [("main", job.main)] + ([("classic", job.classic)] if job.classic else [])
        todos = {name: self.resume.todo(name, rs, job.filters) for name, rs in renders}
        self.batches.clock = Clock(sum(len(todos[name]) * rs.steps * (rs.diversity + rs.negative)
                                       for name, rs in renders))
        with ThreadPoolExecutor(max_workers=1) as writer:  # PNG and JSON writing beside the GPU
            for name, rs in renders:
                if todos[name]:
                    self.render(name, rs, todos[name], writer)
        self.terminal.say(f"{job.layer}: {len(job.filters)} filters done, "
                          f"{estimate.duration(time.time() - self.pre.born)} since the job started")
        return layout.write_json(layout.chunk_manifest(job.outdir, job.layer, job.filters[0]), self.manifest(todos))

    def manifest(self, todos: dict[str, list[int]]) -> dict:
        """What the chunk did: its renders, and what bench/jobs.py and the next run's estimate
        read (the start-up from the process' start to the first step, the job, the rate)."""
        job, born = self.job, self.pre.born
        return {"layer": job.layer, "filters": job.filters, "device": self.pre.where, "renders": todos,
                "started": round(born, 3), "finished": round(time.time(), 3),
                "seconds": round(time.time() - born, 3), "setup_seconds": round(self.setup or 0.0, 3),
                "job": estimate.digest(settings.to_json(self.asked)),
                "rate": {"flops": self.flops, "seconds": round(self.seconds, 3), "device": self.pre.where,
                         "precision": job.main.precision},
                "timings": self.timings, "backend": backend.NAME}

    def render(self, name: str, rs: settings.Ascent, todo: list[int], writer) -> None:
        """``todo`` with one compiled renderer (and one for the negative pictures); the scorecard
        is the main render's (the classic comparison only sits beside it)."""
        model = network.cut_model(self.base, self.job.layer, DTYPES[rs.precision])
        mode = self.pre.weights.preprocess
        job = Render(name, rs, render.for_filters(model, self.layer, rs, mode),
                     render.for_filters(model, self.layer, rs, mode, negative=True) if rs.negative else None)
        if name == "main":
            job.probe, job.photos = self.measures(model)
        resumed = self.resume.resumable(name, rs, todo)
        taken = {f for batch in resumed for f in batch}
        size = recipes.batch_size(rs.batch_size, self.pre.network, self.layer, rs.size, self.pre.memory_bytes())
        queue = resumed + render.batches([f for f in todo if f not in taken], max(1, size // rs.diversity))
        self.say_start(job, queue)
        t0 = time.perf_counter()
        fitted = self.batches.run(job, queue, writer)
        self.timings[name] = {"batches": fitted, "segments": job.renderer.timings}
        self.flops += len(todo) * estimate.render_flops(self.pre.network, self.job.layer, rs)
        self.seconds += time.perf_counter() - t0

    def say_start(self, job: Render, queue: list[list[int]]) -> None:
        """The render's first line in the terminal: what it draws, and, once, the job's start-up."""
        rs, sizes = job.settings, sorted({len(b) for b in queue}, reverse=True)
        ready = ""
        if self.setup is None:
            self.setup = time.time() - self.pre.born
            ready = f"; ready {self.setup:.0f} s after the job started (imports, weights, model)"
        filters = sum(map(len, queue))
        self.terminal.say(f"{self.job.layer} {job.name}: {filters} filters, method {rs.method}, "
                          f"{rs.steps} steps, {rs.size} px, in {len(queue)} batch{'es' if len(queue) > 1 else ''} "
                          f"of {' and '.join(map(str, sizes))}{ready}")

    def measures(self, model) -> tuple[Probe, object]:
        """The scorecard's probe, with the photos measured once for the whole render."""
        probe = Probe(model, self.pre.weights.preprocess)
        shots = self.pre.bands.from_rgb(photos.scorecard_photos(self.job.main.size))
        refs = probe.photos(shots)
        for n in (3, 2):  # two shapes make the compiled function trace a general one: now, not in a batch
            probe.own(shots[:n], [0] * n)
        return probe, refs


def resolved(job: settings.AscentJob, pre: Preflight) -> settings.AscentJob:
    """The job with ``precision: auto`` decided for this machine (``Preflight.precision``) and
    said in its log: the records, the checkpoints and a rerun's comparison all see what was
    used, so a rerun on the same machine keeps every filter. The classic comparison runs in the
    same precision: in bfloat16 its pictures move less than a second seed's (bench/precision.py
    --method classic), and in float32 it took a third of a deep layer's job."""
    precision, why = pre.precision(job.main.precision)
    say(f"precision: {precision} ({why})")
    classic = job.classic and replace(job.classic, precision=precision)
    return replace(job, main=replace(job.main, precision=precision), classic=classic)


def ascend(job: settings.AscentJob, threads: int | None = None) -> Path:
    """Render the job's filters and write their PNGs and records, then the chunk's manifest."""
    return Ascend(job, threads).run()
