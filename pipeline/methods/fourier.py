"""fourier (Lucid, Olah et al. 2017), the atlas default: a Fourier-parameterised image in a
decorrelated colour basis, rolled off above ``cutoff``, moved at random every step (jitter,
zoom, rotation) and climbed with Adam on a schedule. Its section, ``fourier.*``, also sets the
schedule, rate and moves of the methods that read it (``maco``).

What ``auto`` means is the layer's schedule's value (:data:`RECIPES`): the default, schedule
``auto``, reaches 90% of its activation or more in a quarter of its time at every block
(bench/convergence.py, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .method import Method, section_schema

if TYPE_CHECKING:  # the checked config, a layer above: its type only
    from ..config.checked import Config

# What 'auto' means for steps and the fourier settings, per schedule. 'lucid' is Lucid's
# recipe, the atlas default until 0.2. 'cosine' in VGG16's blocks 1-4; 'wsd' in block 5 (the
# last fifth of the network), where cosine reaches 83%. wsd's finer spectrum (cutoff) would put
# high-frequency noise into blocks 1-4's pictures.
RECIPES = {
    "cosine": {"steps": 160, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.22, "jitter": 8, "rotate": 10},
    "wsd": {"steps": 150, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.27, "jitter": 12, "rotate": 15},
    "lucid": {"steps": 512, "lr": 0.05, "pad": 12, "canvas": "reflect", "cutoff": 0.22, "jitter": 8, "rotate": 10},
}
DEEP = 0.8  # relative depth from which 'auto' runs DEEP_SCHEDULE: VGG16's block 5 (10/12 and on)
DEEP_SCHEDULE = "wsd"
DEFAULT_SCHEDULE = "cosine"


@dataclass(frozen=True)
class Shared:
    """What ``fourier.*`` sets for every method that reads it: the schedule, the rate, the moves."""

    schedule: str
    lr: float
    pad: int
    jitter: float
    scale: tuple[float, float]
    rotate: float
    canvas: str


@dataclass(frozen=True)
class Knobs(Shared):
    """``fourier.*`` in the config, each ``auto`` resolved."""

    decay: float
    cutoff: float
    init_sd: float


def schedule(name: str, depth: float | None) -> str:
    """The schedule a layer runs: ``auto`` is 'wsd' from :data:`DEEP` on and 'cosine' before
    it. The class logits (``depth`` None) keep 'cosine': wsd, tuned on block 5's filters,
    overshoots them (a class's probability fell from above 0.99 to nothing in 24 steps)."""
    if name != "auto":
        return name
    return DEEP_SCHEDULE if depth is not None and depth >= DEEP else DEFAULT_SCHEDULE


def moves(knobs, size: int, blocks):
    """Lucid's moves, as the fourier section sets them (for every method that reads it)."""
    return blocks.transform.RandomMoves(size, int(knobs.pad), knobs.jitter, tuple(knobs.scale), knobs.rotate,
                                        knobs.canvas)


class Fourier(Method):
    name = "fourier"
    source = "Lucid, Olah et al. 2017"
    summary = "a Fourier image in decorrelated colours, random moves, Adam on a schedule: the atlas default"
    knobs_type = Knobs
    section = "fourier"
    schema = section_schema("""
type: object
additionalProperties: false
default: {}
description: "settings of the fourier method (and the schedule, rate and moves of the methods that share them): schedule, lr, decay, cutoff, init_sd, pad, jitter, scale, rotate, canvas; 'auto' is the schedule's value"
properties:
  schedule: {enum: [auto, cosine, wsd, lucid], default: auto,
             description: "'auto' (cosine in blocks 1-4, wsd in block 5), 'cosine' (warm-up then cosine decay), 'wsd' (warm-up, hold, linear decay; a finer spectrum and stronger moves) or 'lucid' (Lucid's recipe: a constant rate)",
             $comment: "it sets what 'auto' means for steps and the fourier settings below (pipeline/methods/fourier.py)"}
  lr:
    description: "Adam's learning rate (the peak, for cosine and wsd), a number > 0, or 'auto' (the schedule's)"
    default: auto
    oneOf:
      - const: auto
      - {type: number, exclusiveMinimum: 0}
  decay: {type: number, minimum: 0, maximum: 3, default: 1.25,
          description: "spectrum decay power, 0 (white) to 3; 1 is natural images' own (Lucid's)"}
  cutoff:
    description: "cycles/pixel above which the spectrum rolls off (frequency penalisation), 0 (off) to 1, or 'auto' (the schedule's)"
    default: auto
    oneOf:
      - const: auto
      - {type: number, minimum: 0, maximum: 1}
  init_sd: {type: number, exclusiveMinimum: 0, default: 0.01,
            description: "standard deviation of the starting noise (fourier: of its spectrum), a number > 0"}
  pad:
    description: "padding in pixels before the transforms, 0 to 64, or 'auto' (the schedule's)"
    default: auto
    oneOf:
      - const: auto
      - {type: integer, minimum: 0, maximum: 64}
  jitter:
    description: "random shift in pixels per step, 0 to 64, or 'auto' (the schedule's)"
    default: auto
    oneOf:
      - const: auto
      - {type: number, minimum: 0, maximum: 64}
  scale:
    type: array
    items: {type: number, exclusiveMinimum: 0}
    minItems: 2
    maxItems: 2
    default: [0.9, 1.1]
    description: "[low, high] random zoom per step, both > 0"
  rotate:
    description: "random rotation in degrees per step, 0 to 180, or 'auto' (the schedule's)"
    default: auto
    oneOf:
      - const: auto
      - {type: number, minimum: 0, maximum: 180}
  canvas: {enum: [auto, reflect, mean], default: auto,
           description: "what a move uncovers: 'mean' (ImageNet's mean colour: what leaves the frame is lost), 'reflect' (the image mirrored), or 'auto' (the schedule's)"}
""")

    def knobs(self, cfg: Config, depth: float | None) -> Knobs:
        """The ``fourier`` section at a layer's ``depth``, each 'auto' the schedule's value."""
        section = {**cfg.section("fourier")}
        section["schedule"] = schedule(section["schedule"], depth)
        own = RECIPES[section["schedule"]]
        section = {key: own[key] if value == "auto" else value for key, value in section.items()}
        return Knobs(**{**section, "scale": tuple(section["scale"])})

    def steps(self, knobs) -> int:
        return RECIPES[knobs.schedule]["steps"]

    def parts(self, knobs: Knobs, size: int, blocks, cache: Path):
        return blocks.Parts(image=blocks.param.FourierImage(size, knobs.decay, knobs.cutoff, knobs.init_sd),
                            optimiser=blocks.optimise.Adam(knobs.schedule, knobs.lr),
                            moves=moves(knobs, size, blocks))

    def check(self, cfg: Config) -> str | None:
        low, high = cfg.section("fourier")["scale"]
        if low > high:
            return f"config: fourier.scale = {[low, high]!r} is not allowed; expected [low, high] with low <= high"
        return None


METHOD = Fourier()
