"""The per-filter record: one typed definition for the JSON beside every filter's PNG.

The ascent job writes it; the grid, the pages and ``bench/jobs.py`` read it. Its fields are
the public format documented in the README.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import layout


@dataclass(frozen=True)
class Activation:
    initial: float    # on the starting image
    final: float      # on the final float image
    png: float        # measured again on the saved PNG (mean over space, before the ReLU)
    png_peak: float   # the largest rectified output on the saved PNG; 0 means it never fired


@dataclass(frozen=True)
class FilterRecord:
    layer: str
    filter: int
    method: str
    steps: int
    size: int
    seed: int
    settings: dict            # the method's knobs (fourier.* or classic.*)
    precision: str            # float32 | bfloat16
    diversity_weight: float | None  # with diversity above 1
    weights: str
    weights_licence: str
    preprocess: str
    device: str               # where it ran: e.g. "GPU 0 (NVIDIA H100, GPU-...)" or "CPU"
    activation: Activation
    dead: bool                # never fired on its own best image (see ``Activation.png_peak``)
    curve: list[tuple[int, float]]  # (step, mean activation) through the run
    seconds: float            # this filter's share of its batch's time
    versions: dict
    diversity: list[str] = field(default_factory=list)  # file names of the extra images

    def write(self, path: str | Path) -> Path:
        return layout.write_json(path, asdict(self))

    @classmethod
    def read(cls, path: str | Path) -> FilterRecord:
        with open(path) as fh:
            data = json.load(fh)
        data["activation"] = Activation(**data["activation"])
        data["curve"] = [tuple(point) for point in data["curve"]]
        return cls(**data)
