"""What a picture is made of (:class:`Parts`), and the blocks a method builds it from.

The render loop is handed Parts and never asks which method, dream or caricature it draws. A
method's module (``pipeline/methods``) is handed this module and returns Parts built from the
blocks it names here (``blocks.param.FourierImage(...)``, ``blocks.optimise.Adam(...)``), so
that the method itself imports no Keras and the Snakefile can read it at parse time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import optimise, param, spectrum, transform

BLOCKS = (optimise, param, spectrum, transform)  # what a method reads from this module


@dataclass(frozen=True)
class Parts:
    """A picture's parts: what changes (``image``, a parameterisation of ``param.py``), how it
    changes (``optimiser``, an update rule of ``optimise.py``), what moves it before every step
    (``moves``, of ``transform.py``; None: the image as it is), and whether the loop also keeps
    where the ascent looked (``keeps_map``: MaCo's transparency map, one more output of the
    backward pass)."""

    image: object
    optimiser: object
    moves: object | None = None
    keeps_map: bool = False

    @property
    def pad(self) -> int:
        return self.moves.pad if self.moves is not None else 0

    def for_bands(self, count: int) -> Parts:
        """These parts for a network that takes ``count`` input bands (methods build RGB)."""
        image = self.image.with_bands(count)
        return self if image is self.image else dataclasses.replace(self, image=image)
