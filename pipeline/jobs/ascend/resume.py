"""What an ascent job keeps and where it picks up: a filter whose record already holds these
settings is done; a batch a killed run left a matching saved state for resumes from it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ... import __version__
from ...config import estimate, settings
from ...model.weights import WeightsFile
from ...optvis.render import Checkpoint
from ...output import layout
from ...output.record import FilterRecord
from ..common import say


def identity(s: settings.Ascent, resolved: WeightsFile) -> dict:
    """The record's fields that decide a filter's image: written into every record, and what a
    rerun compares to keep a finished filter. Knobs as the JSON holds them (tuples as lists)."""
    return dict(method=s.method, steps=s.steps, size=s.size, seed=s.seed,
                settings=json.loads(json.dumps(asdict(s.knobs))), precision=s.precision,
                diversity_weight=s.diversity_weight if s.diversity > 1 else None,
                weights=resolved.id, preprocess=resolved.preprocess)


class Resume:
    """One layer's finished filters and saved batches in ``outdir``, for the weights ``resolved``."""

    def __init__(self, outdir: str, layer: str, resolved: WeightsFile):
        self.outdir, self.layer, self.resolved = outdir, layer, resolved

    def todo(self, render_name: str, rs: settings.Ascent, filters: list[int]) -> list[int]:
        """``filters`` not yet rendered with exactly these settings; the log says how many are kept."""
        todo = [f for f in filters if not self.done(render_name, f, rs)]
        kept = len(filters) - len(todo)
        if kept:
            say(f"{self.layer} {render_name}: {kept} of {len(filters)} filters already rendered with these "
                "settings; keeping them")
        return todo

    def done(self, render_name: str, index: int, rs: settings.Ascent) -> bool:
        """Whether a filter's record and images already exist for exactly these settings."""
        png, meta = layout.render_files(self.outdir, render_name, self.layer, index)
        if not (Path(png).exists() and Path(meta).exists()):
            return False
        try:
            rec = FilterRecord.read(meta)
        except (ValueError, TypeError, KeyError):
            return False
        images = len(rec.diversity) + 1 == rs.diversity and all(Path(png).with_name(n).exists() for n in rec.diversity)
        images = images and bool(rec.negative) == rs.negative and (not rec.negative or Path(png).with_name(rec.negative).exists())
        same = all(getattr(rec, key) == value for key, value in identity(rs, self.resolved).items())
        drawn_by = rec.versions.get("backend", "tensorflow")  # records before 0.3 are TensorFlow's
        return images and same and rec.versions.get("pipeline") == __version__ and drawn_by == rs.backend

    def checkpoint(self, render_name: str, rs: settings.Ascent, batch: list[int]) -> Checkpoint:
        """Where ``batch`` saves its state, keyed by what decides its images."""
        key = json.dumps([identity(rs, self.resolved), rs.diversity, rs.backend, batch], sort_keys=True)
        return Checkpoint(Path(layout.checkpoint(self.outdir, self.layer, render_name, batch[0])),
                          estimate.digest(key))

    def resumable(self, render_name: str, rs: settings.Ascent, todo: list[int]) -> list[list[int]]:
        """The batches of ``todo`` a killed run left a matching saved state for, as they were."""
        found, taken = [], set()
        pattern = Path(layout.checkpoint(self.outdir, self.layer, render_name, "*"))
        for path in sorted(pattern.parent.glob(pattern.name)):
            try:
                with np.load(path) as saved:
                    batch = [int(f) for f in saved["filters"]]
            except (OSError, ValueError, KeyError, EOFError):
                continue
            if set(batch) <= set(todo) - taken and self.checkpoint(render_name, rs, batch).load() is not None:
                found.append(batch)
                taken |= set(batch)
        return found
