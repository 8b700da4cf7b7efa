"""classic (Chollet 2016, "How convolutional neural networks see the world"): the pixels
themselves, from grey noise, each step ``step_size`` levels along the L2-normalised gradient,
no moves, the contrast normalised at the end. 20 steps, as Chollet ran it. The atlas also draws
every filter this way beside its picture (``compare_classic``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .method import Method, pick, section_schema

if TYPE_CHECKING:  # the checked config, a layer above: its type only
    from ..config.checked import Config

STEPS = 20  # Chollet 2016's


@dataclass(frozen=True)
class Knobs:
    """``classic.*`` in the config."""

    step_size: float
    init_mean: float
    init_std: float


class Classic(Method):
    name = "classic"
    source = "Chollet 2016"
    summary = "pixels from grey noise along the normalised gradient, no moves"
    knobs_type = Knobs
    section = "classic"
    moves = False
    schema = section_schema("""
type: object
additionalProperties: false
default: {}
description: "settings of the classic method: step_size, init_mean, init_std"
properties:
  step_size: {type: number, exclusiveMinimum: 0, default: 1.0,
              description: "a number > 0; pixels moved per step along the normalised gradient"}
  init_mean: {type: number, minimum: 0, maximum: 255, default: 127.0,
              description: "a number from 0 to 255: the grey of the starting image"}
  init_std: {type: number, minimum: 0, maximum: 128, default: 10.0,
             description: "a number from 0 to 128: the noise of the starting image"}
""")

    def knobs(self, cfg: Config, depth: float | None) -> Knobs:
        return pick(Knobs, cfg.section("classic"))

    def steps(self, knobs: Knobs) -> int:
        return STEPS

    def parts(self, knobs: Knobs, size: int, blocks, cache: Path):
        return blocks.Parts(image=blocks.param.Pixels(size, knobs.init_mean, knobs.init_std),
                            optimiser=blocks.optimise.NormalisedStep(knobs.step_size))


METHOD = Classic()
