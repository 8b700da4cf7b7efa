"""The scorecard's moves, made as a photo editor makes them.

Someone who turns or resizes a picture in an image editor gets Pillow's kind of resampling:
bilinear, and antialiased when shrinking, so detail finer than the new pixels blurs away. The
robustness measure moves each picture that way, on a grey canvas, so what leaves the frame is
lost. The render loop's own moves (``optvis.transform``) sample bilinearly without a low-pass
and would miss exactly the brittleness that fine detail brings: a picture that survives them
can still fall apart at a 10% shrink.

Plain NumPy and Pillow: the same copies on every backend and device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Moves:
    """A recipe of random moves: a turn, a resize about the centre, then a shift of whole pixels."""

    jitter: int                   # px, either way
    scale: tuple[float, float]    # resize range
    rotate: float                 # degrees, either way
    border: tuple[int, int, int]  # the canvas a move uncovers


@dataclass(frozen=True)
class Move:
    angle: float  # degrees, counter-clockwise
    zoom: float
    dx: int
    dy: int


# The size of the moves a reader's eye forgives, on a mid-grey canvas.
SCORECARD = Moves(jitter=8, scale=(0.9, 1.1), rotate=10.0, border=(128, 128, 128))


def draw(moves: Moves, rng: np.random.Generator, n: int) -> list[Move]:
    angle = rng.uniform(-moves.rotate, moves.rotate, n)
    zoom = rng.uniform(moves.scale[0], moves.scale[1], n)
    shift = rng.integers(-moves.jitter, moves.jitter, (n, 2), endpoint=True)
    return [Move(float(a), float(z), int(dx), int(dy)) for a, z, (dx, dy) in zip(angle, zoom, shift)]


def move(picture: Image.Image, m: Move, border: tuple[int, int, int] = SCORECARD.border) -> Image.Image:
    """``picture`` turned by ``m.angle``, resized by ``m.zoom`` about its centre and shifted by
    (``m.dx``, ``m.dy``), on a canvas of its own size."""
    width, height = picture.size
    fill = border if picture.mode == "RGB" else border[0]  # a grey ("L") band: the border's grey
    turned = picture.rotate(m.angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    new = (max(1, round(width * m.zoom)), max(1, round(height * m.zoom)))
    resized = turned.resize(new, Image.Resampling.BILINEAR)  # Pillow low-passes when shrinking
    canvas = Image.new(picture.mode, (width, height), fill)
    canvas.paste(resized, ((width - new[0]) // 2 + m.dx, (height - new[1]) // 2 + m.dy))
    return canvas


def moved_copies(images: np.ndarray, draws: int, seed: int = 0, moves: Moves = SCORECARD) -> np.ndarray:
    """(n * draws, h, w, bands) float32: each picture, as its 8-bit PNG holds it, moved
    ``draws`` times (the same draws for every picture)."""
    chosen = draw(moves, np.random.default_rng(seed), draws)
    pixels = np.clip(np.rint(np.asarray(images, np.float32)), 0, 255).astype(np.uint8)
    return np.stack([moved(p, m, moves.border) for p in pixels for m in chosen])


def moved(picture: np.ndarray, m: Move, border: tuple[int, int, int]) -> np.ndarray:
    """One picture (h, w, bands) uint8 moved; other than RGB, band by band as grey images (Pillow
    knows no mode for a digit classifier's one band beside others, nor for four free bands)."""
    if picture.shape[-1] == 3:
        return np.asarray(move(Image.fromarray(picture), m, border), np.float32)
    return np.stack([np.asarray(move(Image.fromarray(picture[..., b]), m, border), np.float32)
                     for b in range(picture.shape[-1])], axis=-1)
