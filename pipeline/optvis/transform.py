"""Random transformations applied to the image before every step (transformation robustness).

An image that excites a filter only at one exact pixel alignment is an adversarial pattern,
not a feature. Jittering, scaling and rotating it a little every step keeps only what
survives those changes, which is what people can see. All of a step's transforms fold into one
affine map per batch item, drawn up front from each filter's own seeded generator so results
do not depend on which filters share a batch.

Moves are values with two methods: ``draw(rngs, steps)`` (every step's moves, drawn up front,
steps first) and ``apply(images, row)`` (one step's move applied inside the compiled loop).
:class:`RandomMoves` is Lucid's (a method's, each item its own); :class:`Roll` is the shift a
dream or a caricature takes, shared by the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras import ops

from ..model.preprocess import neutral


def identity(steps: int) -> np.ndarray:
    rows = np.zeros((steps, 8), np.float32)
    rows[:, 0] = rows[:, 4] = 1.0
    return rows


def apply(images, rows, pad: int, canvas: str = "reflect"):
    """Pad by ``pad``, then resample every item through its own affine row.

    ``canvas`` says what fills the pixels a move uncovers: ``reflect`` mirrors the image
    (Lucid's recipe here), ``mean`` is the ImageNet mean colour (its grey for other than 3 bands), so whatever leaves the frame is
    lost, as it is for a photo; an image trained that way keeps its feature away from the border.
    """
    if canvas == "mean":
        # affine_transform fills with one scalar: shift so the mean colour is zero, then back.
        mean = neutral(images.shape[-1])
        centred = images - mean
        if pad:
            centred = ops.pad(centred, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        moved = ops.image.affine_transform(centred, rows, interpolation="bilinear",
                                           fill_mode="constant", fill_value=0.0)
        return moved + mean
    if pad:
        images = ops.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    return ops.image.affine_transform(images, rows, interpolation="bilinear", fill_mode="reflect")


@dataclass(frozen=True)
class RandomMoves:
    """Lucid's transformation robustness: every step, each item padded by ``pad``, rotated,
    zoomed and shifted at random (``draw``), ``canvas`` filling what a move uncovers."""

    size: int
    pad: int
    jitter: float
    scale: tuple[float, float]
    rotate: float
    canvas: str

    def draw(self, rngs: list[np.random.Generator], steps: int) -> np.ndarray:
        """(steps, batch, 8): each item's rows from its own generator."""
        return np.stack([self.rows(rng, steps) for rng in rngs], axis=1)

    def rows(self, rng: np.random.Generator, steps: int) -> np.ndarray:
        """(steps, 8) projective-transform rows for ``keras.ops.image.affine_transform``.

        Each row maps an output pixel back to the input pixel it samples: a rotation by up to
        ``rotate`` degrees and a zoom in ``scale`` about the centre, then a shift of up to
        ``jitter``.
        """
        angle = np.deg2rad(rng.uniform(-self.rotate, self.rotate, steps))
        zoom = rng.uniform(self.scale[0], self.scale[1], steps)
        shift = rng.uniform(-self.jitter, self.jitter, (steps, 2))
        c = (self.size + 2 * self.pad - 1) / 2.0
        cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
        rows = np.zeros((steps, 8), np.float32)
        rows[:, 0], rows[:, 1] = cos, sin
        rows[:, 3], rows[:, 4] = -sin, cos
        rows[:, 2] = c - cos * c - sin * c + shift[:, 0]
        rows[:, 5] = c + sin * c - cos * c + shift[:, 1]
        return rows

    def apply(self, images, rows):
        return apply(images, rows, self.pad, self.canvas)


@dataclass(frozen=True)
class Roll:
    """A random shift of up to ``most`` pixels, the image wrapping round (DeepDream's), the same
    for the whole batch: it keeps a filter's pattern from locking onto one pixel grid, and the
    gradient rolls back with it. Drawn from ``rng`` where given (a dream's, which runs on
    from octave to octave), else from the batch's first item's generator."""

    most: int
    rng: np.random.Generator | None = None
    pad = 0

    def draw(self, rngs: list[np.random.Generator], steps: int) -> np.ndarray:
        """(steps, 2) shifts (rows, columns)."""
        rng = self.rng if self.rng is not None else rngs[0]
        return rng.integers(-self.most, self.most + 1, size=(steps, 2)).astype(np.int32)

    def apply(self, images, shift):
        return ops.roll(images, shift, axis=(1, 2))
