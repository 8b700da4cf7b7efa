"""Running a render's batches: each batch drawn (and its negative pictures after it), measured
again as saved and handed to the writer, a batch that runs out of memory halved, and every
progress line with the job's time left."""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...config import estimate, settings
from ...errors import AtlasError
from ...measure import scorecard
from ...measure.probe import Probe
from ...output.record import Scorecard
from ...optvis import backend
from ...optvis.render import Progress, Rendered, Renderer
from ..common import Terminal, say
from .resume import Resume


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


@dataclass
class Render:
    """One render of an ascent job: ``main`` or ``classic`` (the comparison), its settings, its
    compiled renderer (and the negative pictures', ``descender``), and the scorecard's probe with
    the photos it judges pictures against (the main render only)."""

    name: str
    settings: settings.Ascent
    renderer: Renderer
    descender: Renderer | None = None
    probe: Probe | None = None
    photos: scorecard.Photos | None = None


@dataclass
class Drawn:
    """One filter as its batch leaves it: its picture (and the others diversity drew), the
    picture measured again as saved, its scorecard and its negative picture."""

    rendered: Rendered
    png_mean: float
    png_peak: float
    scorecard: Scorecard | None
    negative: Rendered | None


class Batches:
    """Runs renders batch by batch; ``write(render, drawn)`` writes each filter on the writer
    thread while the next batch renders."""

    def __init__(self, resume: Resume, write: Callable[[Render, Drawn], Path], terminal: Terminal):
        self.resume, self.write, self.terminal = resume, write, terminal
        self.clock = Clock(0)

    def run(self, render: Render, queue: list[list[int]], writer: Executor) -> list[int]:
        """Every batch of ``queue``; the batch sizes that fitted, after any halving. Out of
        memory, a batch is halved and the job goes on."""
        pending, fitted = [], []
        while queue:
            batch = queue.pop(0)
            label = f"{self.resume.layer} filters {batch[0]}-{batch[-1]}"
            saved = self.resume.checkpoint(render.name, render.settings, batch)
            try:
                drawn = self.draw(render, batch, label, saved)
            except backend.OutOfMemory as error:
                if not backend.out_of_memory(error):
                    raise
                queue[:0] = halved(batch, label)
                continue
            fitted.append(len(batch))
            pending += [writer.submit(self.write, render, d) for d in drawn]
            pending.append(writer.submit(Path(saved.path).unlink, missing_ok=True))  # after its records
            say(f"{label}: done; mean activation on the saved PNGs {', '.join(f'{d.png_mean:.3g}' for d in drawn)}")
        for written in pending:
            written.result()  # a failed write fails the job
        return fitted

    def draw(self, render: Render, batch: list[int], label: str, saved) -> list[Drawn]:
        """One batch, resumed from ``saved`` where it matches, then its negative pictures
        (uncheckpointed: a killed run redoes them), each picture measured again as saved."""
        rs = render.settings
        before = len(batch) * rs.diversity * saved.resumes_from()  # filter-steps a killed run did
        results = render.renderer.render(batch, rs.steps, checkpoint=saved, progress=Progress(
            label, self.terminal, lambda steps: self.clock.left(len(batch) * rs.diversity * steps, before)))
        negatives = render.descender.render(batch, rs.steps, progress=Progress(
            f"{label} negative", self.terminal,
            lambda steps: self.clock.left(len(batch) * (rs.diversity * rs.steps + steps), before))) \
            if render.descender else [None] * len(batch)
        self.clock.finished(len(batch) * (rs.diversity + rs.negative) * rs.steps, before)
        images = np.stack([r.image for r in results])
        png_means, png_peaks = render.renderer.measure(images, batch)
        cards = render.probe.scorecards(images, batch, render.photos) if render.probe else [None] * len(batch)
        return [Drawn(r, float(m), float(p), card, neg)
                for r, m, p, card, neg in zip(results, png_means, png_peaks, cards, negatives)]


def halved(batch: list[int], label: str) -> list[list[int]]:
    """Out of memory: the batch in two halves, or one line where one filter does not fit."""
    if len(batch) == 1:
        raise AtlasError(f"ascend: {label} does not fit in memory even one filter at a time; "
                         "lower size or use a larger GPU") from None
    half = len(batch) // 2
    say(f"{label}: out of memory with {len(batch)} filters; halving the batch to {half} and going on")
    return [batch[:half], batch[half:]]
