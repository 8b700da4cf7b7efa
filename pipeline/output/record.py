"""The per-filter record: one typed definition for the JSON beside every filter's PNG.

The ascent job writes it; the grid, the pages and ``bench/jobs.py`` read it. Its fields are
the public format documented in docs/outputs.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import layout

TILE = 64  # px: one crop in a filter's examples mosaic (measure/examples.py), as the pages show it


@dataclass(frozen=True)
class Activation:
    initial: float    # on the starting image
    final: float      # on the final float image
    png: float        # measured again on the saved PNG (mean over space, before the ReLU)
    png_peak: float   # the largest rectified output on the saved PNG; 0 means it never fired


@dataclass(frozen=True)
class Link:
    """One connection to a filter of the neighbouring conv layer (``measure/circuits.py``)."""

    layer: str
    filter: int
    weight: float     # L2 norm of the 3x3 kernel slice between the two filters
    sign: str         # excites | inhibits: the sign of the slice's sum


@dataclass(frozen=True)
class Scorecard:
    """How far the picture can be trusted (``measure/scorecard.py``), and the line that says so."""

    strength: float        # own activation over the best photo's; above 1 beats every photo
    best_photo: str        # the photo that excites the filter most: strength's reference
    robustness: float      # moved copies (measure/moves.py) over the picture itself
    spectral_share: float  # power above half the Nyquist frequency
    verdict: str
    seconds: float         # what measuring cost, this filter's share
    # The references the picture is judged against, measured in the same job on the photos
    # that make the filter fire (measure/scorecard.py); None in records written before them.
    robustness_error: float | None = None      # the standard error of robustness over its draws
    robustness_reference: float | None = None  # the least any of those photos keeps when moved
    spectral_reference: float | None = None    # the largest spectral share among the photos
    robustness_reference_error: float | None = None  # that photo's standard error over its draws


class Written:
    """A record written as JSON: every file under a temporary name, then renamed (``layout``)."""

    def write(self, path: str | Path) -> Path:
        return layout.write_json(path, asdict(self))


def _load(path: str | Path) -> dict:
    with open(path) as fh:
        return json.load(fh)


@dataclass(frozen=True)
class Example:
    """One dataset example of a filter (``measure/examples.py``)."""

    image: str                 # path relative to the examples folder, or skimage:NAME
    position: list[int]        # (y, x) in the layer's map
    box: list[int]             # (left, top, right, bottom) in the original image's pixels
    activation: float          # the filter's pre-ReLU activation there


@dataclass(frozen=True)
class FilterExamples(Written):
    """A filter's dataset examples: the JSON beside its mosaic, ``examples/{layer}/{filter:04d}``.

    Kept apart from the ascent's record so that new images rerun the examples, never an ascent.
    """

    layer: str
    filter: int
    source: str                # the examples setting: a folder, or skimage
    side: int                  # images were resized so their shorter side is this
    columns: int               # the mosaic's tiles per row
    examples: list[Example]    # strongest first; the mosaic's tiles in the same order, row by row
    negative: list[Example]    # the most negative, with examples_negative
    # The trust tasks' pool (measure/trust.py): the strong pool is examples + more.
    more: list[Example] = field(default_factory=list)     # the next strongest, not shown
    weakest: list[Example] = field(default_factory=list)  # weakest first, by their strongest position

    @property
    def strong(self) -> list[Example]:
        return self.examples + self.more

    @classmethod
    def read(cls, path: str | Path) -> FilterExamples:
        data = _load(path)
        for key in ("examples", "negative", "more", "weakest"):
            data[key] = [Example(**e) for e in data.get(key, [])]
        return cls(**data)


@dataclass(frozen=True)
class Caricature(Written):
    """A filter's caricature: the JSON beside ``caricatures/{layer}/{filter:04d}.png``."""

    layer: str
    filter: int
    image: str                 # the top dataset example it started from (as the examples list it)
    crop: list[int]            # (left, top, right, bottom) of the photo crop, original pixels
    steps: int
    tie: float
    activation: dict           # the filter's mean pre-ReLU activation: photo, caricature
    distance: float            # RMS pixel difference from the photo crop, in levels of 255
    seconds: float             # this filter's share of its batch's time

    @classmethod
    def read(cls, path: str | Path) -> Caricature:
        return cls(**_load(path))


@dataclass(frozen=True)
class Mis:
    """One machine interpretability score (``measure/trust.py``) with its 95% interval."""

    mis: float        # mean probability of the right choice over the tasks
    low: float        # 95% bootstrap interval over the images (measure/trust.py's over_images)
    high: float
    accuracy: float   # share of tasks where the strong query is the nearer one (ties half)


@dataclass(frozen=True)
class PathPoint:
    """Geirhos et al.'s processing path at one conv layer: mean Spearman correlations."""

    layer: str
    picture: float    # the picture against each of the top natural examples
    natural: float    # the top natural examples against each other (the baseline)


@dataclass(frozen=True)
class Null:
    """What the specific score is measured against: the same score for pictures that are not
    this filter's (``measure/trust.py``)."""

    others: list[int]  # the layer's other filters whose pictures were the negatives
    median: float      # their pictures' specific scores as this filter's explanation: the median
    high: float        # and the 90th percentile
    noise: float       # grey noise's specific score


@dataclass(frozen=True)
class Trust(Written):
    """A filter's trust scores: the JSON ``trust/{layer}/{filter:04d}.json``.

    Written by the trust job from what the ascent and examples jobs wrote, so new images
    rerun it, never an ascent."""

    layer: str
    filter: int
    similarity: str             # the perceptual distance: lpips-vgg, or a Keras embedding model's path
    source: str                 # the examples folder the queries came from
    pool: list[int]             # strong and weak images the tasks were drawn from
    references: int             # natural references per side in each task
    tasks: int
    natural: Mis | None         # references: the filter's dataset examples (None: one image a side)
    synthetic: Mis | None       # references: its pictures (None: mixed, with one image a side)
    synthetic_kind: str         # synthetic (negative pictures) | mixed (natural negatives)
    specific: Mis | None        # the picture against the layer's other pictures (None: fewer than 2)
    null: Null | None           # the layer's other pictures and grey noise scored the same way
    path: float | None          # mean over layers of the picture's correlation
    path_baseline: float | None  # mean over layers of the natural baseline
    path_curve: list[PathPoint]
    seconds: float              # this filter's share of the job's time

    @classmethod
    def read(cls, path: str | Path) -> Trust:
        data = _load(path)
        for key in ("natural", "synthetic", "specific"):
            data[key] = Mis(**data[key]) if data.get(key) else None
        data["null"] = Null(**data["null"]) if data.get("null") else None
        data["path_curve"] = [PathPoint(**p) for p in data["path_curve"]]
        return cls(**data)


@dataclass(frozen=True)
class FilterRecord(Written):
    layer: str
    filter: int
    method: str
    steps: int
    size: int
    seed: int
    settings: dict            # the method's knobs (fourier.*, classic.* or maco.*)
    precision: str            # float32 | bfloat16
    diversity_weight: float | None  # with diversity above 1
    weights: str
    weights_licence: str
    preprocess: str
    device: str               # where it ran: e.g. "GPU 0 (NVIDIA H100, GPU-...)" or "CPU"
    activation: Activation
    dead: bool                # known never to fire: see ``jobs/ascend.py``'s ``firing``
    silent: bool              # did not fire on its own picture within this run's steps
    curve: list[tuple[int, float]]  # (step, mean activation) through the run
    seconds: float            # this filter's share of its batch's time
    versions: dict
    diversity: list[str] = field(default_factory=list)  # file names of the extra images
    inputs: list[Link] = field(default_factory=list)    # strongest filters of the layer before
    outputs: list[Link] = field(default_factory=list)   # strongest filters of the layer after
    scorecard: Scorecard | None = None                  # None for a filter that never fired
    kernel: list | None = None  # block1_conv1 only: its 3x3 kernel as RGB colours (it reads pixels)
    transparency: str | None = None  # file name of the picture with its transparency map as alpha (maco)
    negative: str | None = None  # file name of the negative picture (the filter minimised), with negative

    @classmethod
    def read(cls, path: str | Path) -> FilterRecord:
        data = _load(path)
        data["activation"] = Activation(**data["activation"])
        data["curve"] = [tuple(point) for point in data["curve"]]
        data["inputs"] = [Link(**link) for link in data.get("inputs", [])]
        data["outputs"] = [Link(**link) for link in data.get("outputs", [])]
        data["scorecard"] = Scorecard(**data["scorecard"]) if data.get("scorecard") else None
        return cls(**data)
