"""The ascent job: one chunk of a layer's filters, the main render and the classic comparison.

Each filter's PNG and record are written atomically, the record last, so a record means its
images are complete. Filters whose record already holds these settings are kept: a job killed
half-way resumes, and a changed classic setting redoes only the classic images.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..config import estimate, recipes, settings
from ..errors import AtlasError
from ..images import photos
from ..measure import circuits, scorecard
from ..measure.probe import Probe
from ..model import network
from ..model.description import ConvLayer
from ..model.weights import WeightsFile
from ..optvis import backend, render
from ..output import layout
from ..output.record import Activation, FilterRecord
from .common import preflight, say, versions

DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


class Clock:
    """The job's work in filter-steps, done and ahead: each progress line's time left, at the
    pace of this process (a batch resumed from a killed run's state brings steps it did not
    compute)."""

    def __init__(self, total: int):
        self.total, self.done, self.t0 = max(1, total), 0, time.perf_counter()
        self.inherited = 0     # filter-steps of finished batches an earlier run computed

    def left(self, now: int = 0, before: int = 0) -> str:
        """``now`` filter-steps of the current batch are done beside the finished batches,
        ``before`` of them by an earlier run."""
        done = min(self.total, self.done + now)
        worked = done - self.inherited - before
        if worked <= 0:
            return "job time left unknown yet"
        elapsed = time.perf_counter() - self.t0
        return f"job about {estimate.duration(elapsed * (self.total - done) / worked)} left"

    def finished(self, work: int, before: int = 0) -> None:
        """A batch of ``work`` filter-steps is done, ``before`` of them by an earlier run."""
        self.done, self.inherited = self.done + work, self.inherited + before


class Terminal:
    """The job's log: every line to stderr (the rule sends it to the log file), and at most one
    every ``every`` seconds to stdout, which Snakemake shows in the terminal. Progress lines come
    about every 30 s (optvis/render.EVERY), so the terminal hears from a running job about once
    a minute."""

    def __init__(self, every: float = 45.0):
        self.every, self.last = every, -float("inf")

    def write(self, text: str, always: bool = False) -> None:
        sys.stderr.write(text)
        if text.strip() and (always or time.monotonic() - self.last >= self.every):
            self.last = time.monotonic()
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def say(self, line: str) -> None:
        """A line the terminal always shows: the job's start and end."""
        self.write(line + "\n", always=True)
        self.flush()

    def flush(self) -> None:
        sys.stderr.flush()


@dataclass
class Measures:
    """What a render measures beside the ascent: the scorecard's probe and the photos it judges
    pictures against (the main render only), and the kernels the circuits are read from."""

    probe: Probe | None
    photos: scorecard.Photos | None
    kernels: dict


class Ascend:
    """One ascent job. It holds what its renders share: the layer, the weights, the kernels and
    the writer that saves each batch while the next one renders."""

    def __init__(self, job: settings.AscentJob, threads: int | None = None):
        self.asked = job  # as Snakemake handed it: its digest
        self.pre = preflight(job.main.device, job.main.weights, threads)
        self.layer = self.pre.network.layer(job.layer)
        self.job = resolved(job, self.pre)
        self.base = self.pre.base()
        self.kernels = circuits.kernels(self.base, self.pre.network)
        self.terminal = Terminal()  # progress into the log, and about once a minute into the terminal
        self.setup: float | None = None  # seconds from the process' start to the first step
        self.flops = self.seconds = 0.0  # the ascents' arithmetic and time: the next run's rate
        self.clock = Clock(0)
        self.resuming: set[int] = set()  # filters of the batches resumed from a saved state
        self.timings: dict[str, dict] = {}  # per render: its batches and segments, for the benches

    def run(self) -> Path:
        """Every render of the chunk, then the chunk's manifest (the rule's declared output)."""
        job = self.job
        renders = [("main", job.main)] + ([("classic", job.classic)] if job.classic else [])
        manifest = {"layer": job.layer, "filters": job.filters, "device": self.pre.where, "renders": {}}
        todos = {name: self.todo(name, rs) for name, rs in renders}
        manifest["renders"] = todos
        self.clock = Clock(sum(len(todos[name]) * rs.steps * (rs.diversity + rs.negative) for name, rs in renders))
        with ThreadPoolExecutor(max_workers=1) as writer:  # PNG and JSON writing beside the GPU
            for render_name, rs in renders:
                if todos[render_name]:
                    self.render(render_name, rs, todos[render_name], writer)
        # What bench/jobs.py reads: the start-up from the process' start to the first step
        # (imports, weights, model), and the whole job.
        born = self.pre.born
        manifest.update(started=round(born, 3), finished=round(time.time(), 3),
                        seconds=round(time.time() - born, 3), setup_seconds=round(self.setup or 0.0, 3),
                        job=estimate.digest(settings.to_json(self.asked)),
                        rate={"flops": self.flops, "seconds": round(self.seconds, 3), "device": self.pre.where,
                              "precision": job.main.precision},
                        timings=self.timings, backend=backend.NAME)
        self.terminal.say(f"{job.layer}: {len(job.filters)} filters done, "
                          f"{estimate.duration(manifest['seconds'])} since the job started")
        return layout.write_json(layout.chunk_manifest(job.outdir, job.layer, job.filters[0]), manifest)

    def todo(self, render_name: str, rs: settings.Ascent) -> list[int]:
        """The chunk's filters not yet rendered with exactly these settings."""
        todo = [f for f in self.job.filters if not self.done(render_name, f, rs)]
        kept = len(self.job.filters) - len(todo)
        if kept:
            say(f"{self.job.layer} {render_name}: {kept} of {len(self.job.filters)} filters "
                "already rendered with these settings; keeping them")
        return todo

    def done(self, render_name: str, index: int, rs: settings.Ascent) -> bool:
        """Whether a filter's record and images already exist for exactly these settings."""
        png, meta = layout.render_files(self.job.outdir, render_name, self.job.layer, index)
        if not (Path(png).exists() and Path(meta).exists()):
            return False
        try:
            rec = FilterRecord.read(meta)
        except (ValueError, TypeError, KeyError):
            return False
        images = len(rec.diversity) + 1 == rs.diversity and all(Path(png).with_name(n).exists() for n in rec.diversity)
        images = images and bool(rec.negative) == rs.negative and (not rec.negative or Path(png).with_name(rec.negative).exists())
        same = all(getattr(rec, key) == value for key, value in identity(rs, self.pre.weights).items())
        drawn_by = rec.versions.get("backend", "tensorflow")  # records before 0.3 are TensorFlow's
        return images and same and rec.versions.get("pipeline") == __version__ and drawn_by == rs.backend

    def render(self, render_name: str, rs: settings.Ascent, todo: list[int], writer) -> None:
        """``todo`` with one compiled renderer; the scorecard is the main render's (the classic
        comparison only sits beside it)."""
        model = network.cut_model(self.base, self.job.layer, DTYPES[rs.precision])
        batch_size = recipes.batch_size(rs.batch_size, self.pre.network, self.layer, rs.size, self.pre.memory_bytes())
        renderer = render.for_filters(model, self.layer, rs, self.pre.weights.preprocess)
        # The negative pictures: the same model, their own compiled loop.
        descender = render.for_filters(model, self.layer, rs, self.pre.weights.preprocess, negative=True) \
            if rs.negative else None
        measures = self.measures(model) if render_name == "main" else Measures(None, None, self.kernels)
        queue = self.resumable(render_name, rs, todo) + render.batches(
            [f for f in todo if f not in self.resuming], max(1, batch_size // rs.diversity))
        sizes = sorted({len(b) for b in queue}, reverse=True)
        ready = ""
        if self.setup is None:
            self.setup = time.time() - self.pre.born
            ready = f"; ready {self.setup:.0f} s after the job started (imports, weights, model)"
        self.terminal.say(f"{self.job.layer} {render_name}: {len(todo)} filters, method {rs.method}, "
                          f"{rs.steps} steps, {rs.size} px, in {len(queue)} batch{'es' if len(queue) > 1 else ''} "
                          f"of {' and '.join(map(str, sizes))}{ready}")
        t0 = time.perf_counter()
        self.batches(renderer, measures, render_name, rs, queue, writer, descender)
        self.timings[render_name] = {"batches": self.fitted, "segments": renderer.timings}
        side = rs.size + 2 * rs.pad
        per_filter = estimate.ascent_flops(self.pre.network, self.job.layer, rs.steps, side)
        self.flops += len(todo) * (rs.diversity + rs.negative) * per_filter
        self.seconds += time.perf_counter() - t0

    def batches(self, renderer, measures: Measures, render_name: str, rs: settings.Ascent,
                queue: list[list[int]], writer, descender=None) -> None:
        """Render batch by batch (and with ``descender`` each batch's negative pictures after
        it); ``writer`` writes each batch while the next renders. Out of memory, a batch is
        halved and the job goes on."""
        pending, self.fitted = [], []  # the batch sizes that fitted, after any halving
        while queue:
            batch = queue.pop(0)
            label = f"{self.job.layer} filters {batch[0]}-{batch[-1]}"
            work = len(batch) * (rs.diversity + rs.negative)
            saved = self.checkpoint(render_name, rs, batch)
            before = len(batch) * rs.diversity * saved.resumes_from()  # filter-steps a killed run did
            try:
                results = renderer.render(batch, rs.steps, label=label, checkpoint=saved, log=self.terminal,
                                          left=lambda steps: self.clock.left(len(batch) * rs.diversity * steps,
                                                                             before))
            except backend.OutOfMemory as error:
                if not backend.out_of_memory(error):
                    raise
                queue[:0] = self.halved(batch, label)
                continue
            # The negatives after the positives, uncheckpointed: a killed run redoes them.
            negatives = descender.render(
                batch, rs.steps, label=f"{label} negative", log=self.terminal,
                left=lambda steps: self.clock.left(len(batch) * (rs.diversity * rs.steps + steps), before)) \
                if descender else [None] * len(batch)
            self.clock.finished(work * rs.steps, before)
            self.fitted.append(len(batch))
            images = np.stack([r.image for r in results])
            png_means, png_peaks = renderer.measure(images, batch)
            cards = measures.probe.scorecards(images, batch, measures.photos) if measures.probe \
                else [None] * len(batch)
            pending += [writer.submit(self.write, render_name, rs, r, float(m), float(p), card, neg)
                        for r, m, p, card, neg in zip(results, png_means, png_peaks, cards, negatives)]
            pending.append(writer.submit(Path(saved.path).unlink, missing_ok=True))  # after its records
            say(f"{label}: done; mean activation on the saved PNGs {', '.join(f'{v:.3g}' for v in png_means)}")
        for written in pending:
            written.result()  # a failed write fails the job

    def checkpoint(self, render_name: str, rs: settings.Ascent, batch: list[int]) -> render.Checkpoint:
        """Where ``batch`` saves its state, keyed by what decides its images."""
        key = json.dumps([identity(rs, self.pre.weights), rs.diversity, rs.backend, batch], sort_keys=True)
        return render.Checkpoint(Path(layout.checkpoint(self.job.outdir, self.job.layer, render_name, batch[0])),
                                 estimate.digest(key))

    def resumable(self, render_name: str, rs: settings.Ascent, todo: list[int]) -> list[list[int]]:
        """The batches a killed run left a matching saved state for: first, and as they were."""
        found, self.resuming = [], set()
        pattern = Path(layout.checkpoint(self.job.outdir, self.job.layer, render_name, "*"))
        for path in sorted(pattern.parent.glob(pattern.name)):
            try:
                with np.load(path) as saved:
                    batch = [int(f) for f in saved["filters"]]
            except (OSError, ValueError, KeyError, EOFError):
                continue
            if set(batch) <= set(todo) - self.resuming and self.checkpoint(render_name, rs, batch).load() is not None:
                found.append(batch)
                self.resuming |= set(batch)
        return found

    def measures(self, model) -> Measures:
        """The scorecard's probe, with the photos measured once for the whole render."""
        probe = Probe(model, self.pre.weights.preprocess)
        shots = photos.scorecard_photos(self.job.main.size)
        refs = probe.photos(shots)
        for n in (3, 2):  # two shapes make the compiled function trace a general one: now, not in a batch
            probe.own(shots[:n], [0] * n)
        return Measures(probe, refs, self.kernels)

    @staticmethod
    def halved(batch: list[int], label: str) -> list[list[int]]:
        """Out of memory: the batch in two halves, or one line where one filter does not fit."""
        if len(batch) == 1:
            raise AtlasError(f"ascend: {label} does not fit in memory even one filter at a time; "
                             "lower size or use a larger GPU") from None
        half = len(batch) // 2
        say(f"{label}: out of memory with {len(batch)} filters; halving the batch to {half} and going on")
        return [batch[:half], batch[half:]]

    def write(self, render_name: str, rs: settings.Ascent, r: render.Rendered, png_mean: float,
              png_peak: float, card, negative: render.Rendered | None) -> Path:
        """One filter's images, then its record."""
        lyr, resolved = self.layer, self.pre.weights
        png_path, json_path = layout.render_files(self.job.outdir, render_name, lyr.name, r.filter)
        extra = [Path(layout.diverse_png("", lyr.name, r.filter, k)).name for k in range(1, len(r.diverse) + 1)]
        for name, image in zip(extra, r.diverse):
            layout.write_png(Path(png_path).with_name(name), image)
        alpha = None
        if r.transparency is not None and render_name == "main":
            alpha = layout.write_png(layout.transparency_png(self.job.outdir, lyr.name, r.filter),
                                     np.dstack([r.image, r.transparency])).name
        if negative is not None:
            negative = layout.write_png(layout.negative_png(self.job.outdir, lyr.name, r.filter), negative.image).name
        layout.write_png(png_path, r.image)
        k = self.kernels
        return FilterRecord(
            layer=lyr.name, filter=r.filter, **identity(rs, resolved),
            weights_licence=resolved.licence, device=self.pre.where,
            activation=Activation(r.initial, r.final, png_mean, png_peak),
            **firing(k, lyr, r.filter, png_peak > 0.0, rs, resolved.preprocess),
            curve=r.curve, seconds=round(r.seconds, 4), versions=versions(), diversity=extra,
            inputs=circuits.inputs(k, lyr, r.filter), outputs=circuits.outputs(k, self.pre.network, lyr, r.filter),
            scorecard=card,
            kernel=circuits.rgb_kernel(k, lyr, r.filter, resolved.preprocess) if lyr.reads == "" else None,
            transparency=alpha, negative=negative,
        ).write(json_path)  # last: a record means its images are complete


def resolved(job: settings.AscentJob, pre) -> settings.AscentJob:
    """The job with ``precision: auto`` decided for this machine (``Preflight.precision``) and
    said in its log: the records, the checkpoints and a rerun's comparison all see what was
    used, so a rerun on the same machine keeps every filter."""
    precision, why = pre.precision(job.main.precision)
    if job.main.precision == "auto" and precision == "bfloat16" and recipes.auto_float32(pre.network.depth(job.layer)):
        precision, why = "float32", f"auto: float32 at this depth, where bfloat16 does not pay ({why[6:]})"
    say(f"precision: {precision} ({why})")
    classic = job.classic and replace(job.classic, precision="float32" if job.classic.precision == "auto"
                                      else job.classic.precision)
    return replace(job, main=replace(job.main, precision=precision), classic=classic)


def firing(kernels: dict, lyr: ConvLayer, f: int, fired: bool, s: settings.Ascent,
           preprocess_mode: str) -> dict:
    """``dead`` only where that is known: a first-layer filter that no valid image can make
    positive (decided exactly), or one still silent after at least the default steps. A filter
    that did not fire in a shorter run is ``silent``: it may only have needed more steps."""
    if lyr.reads == "":
        dead = not circuits.can_fire(kernels, lyr, f, preprocess_mode)
    else:
        dead = not fired and s.steps >= recipes.default_steps(s.method, s.schedule)
    return {"dead": dead, "silent": not fired and not dead}


def identity(s: settings.Ascent, resolved: WeightsFile) -> dict:
    """The record's fields that decide a filter's image: written into every record, and what a
    rerun compares to keep a finished filter. Knobs as the JSON holds them (tuples as lists)."""
    return dict(method=s.method, steps=s.steps, size=s.size, seed=s.seed,
                settings=json.loads(json.dumps(asdict(s.knobs))), precision=s.precision,
                diversity_weight=s.diversity_weight if s.diversity > 1 else None,
                weights=resolved.id, preprocess=resolved.preprocess)


def ascend(job: settings.AscentJob, threads: int | None = None) -> Path:
    """Render the job's filters and write their PNGs and records, then the chunk's manifest."""
    return Ascend(job, threads).run()
