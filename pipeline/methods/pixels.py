"""pixels (Lucid's decorrelated pixel image, ``param.image(fft=False, decorrelate=True)``):
the pixels are the parameters, but in Lucid's decorrelated colour basis and through a sigmoid,
climbed with Adam and moved at random every step with fourier's schedule, rate and moves. It
sits between ``classic`` (raw pixels, no moves) and ``fourier`` (the same, in the Fourier
basis): what the moves and the colour basis do without the spectrum (docs/methods.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import fourier
from .method import Method, pick

if TYPE_CHECKING:  # the checked config, a layer above: its type only
    from ..config.checked import Config


@dataclass(frozen=True)
class Knobs(fourier.Shared):
    """``fourier.*``'s schedule, rate and moves, and its starting noise."""

    init_sd: float


class Pixels(Method):
    name = "pixels"
    source = "Lucid, Olah et al. 2017"
    summary = "pixels in decorrelated colours, random moves, Adam on fourier's schedule"
    knobs_type = Knobs
    section = "fourier"

    def knobs(self, cfg: Config, depth: float | None) -> Knobs:
        return pick(Knobs, vars(fourier.METHOD.knobs(cfg, depth)))

    def steps(self, knobs) -> int:
        return fourier.RECIPES[knobs.schedule]["steps"]

    def parts(self, knobs: Knobs, size: int, blocks, cache: Path):
        return blocks.Parts(image=blocks.param.Decorrelated(blocks.param.Pixels(size, 0.0, knobs.init_sd)),
                            optimiser=blocks.optimise.Adam(knobs.schedule, knobs.lr),
                            moves=fourier.moves(knobs, size, blocks))

    def check(self, cfg: Config) -> str | None:
        return fourier.METHOD.check(cfg)


METHOD = Pixels()
