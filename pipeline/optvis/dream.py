"""Dreams: start from a photo instead of noise and ascend chosen filters (DeepDream-style).

The photo is processed at several scales ("octaves"), smallest first; after each octave the
detail that shrinking lost is added back, so large images stay sharp. Each step moves the
pixels along the L2-normalised gradient (Chollet 2016's update) after a random shift of the image,
which keeps the filters' patterns from locking onto one pixel grid.
"""

from __future__ import annotations

import time

import numpy as np
from keras import ops
from PIL import Image

from ..model.preprocess import preprocess
from . import backend
from .deprocess import to_uint8
from .optimise import normalised


def fit(image: np.ndarray, max_side: int, min_side: int) -> np.ndarray:
    """Resize so the longer side is ``max_side``, keeping the aspect ratio (no crop), and the
    shorter at least ``min_side`` (the network's smallest input)."""
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    size = (max(min_side, round(w * scale)), max(min_side, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


class Dreamer:
    """Ascends the mean activation of chosen filters of ``model`` (a cut model) from a photo."""

    def __init__(self, model, filters: list[int], preprocess_mode: str, step_size: float, min_side: int):
        self.model, self.mode, self.min_side = model, preprocess_mode, min_side
        channels = np.asarray(filters, np.int32)

        def objective(x):  # mean over the chosen filters of their mean pre-ReLU activation
            means = ops.mean(self.model(preprocess(x, self.mode)), axis=(1, 2))
            return ops.mean(ops.take(means, channels, axis=1), axis=1)

        def step(x, shift):
            _, g = backend.gradient(objective, ops.roll(x, shift, axis=(1, 2)))
            g = ops.roll(g, -shift, axis=(1, 2))
            return ops.clip(x + step_size * normalised(g), 0.0, 255.0)

        self._steps = backend.compile(lambda x, shifts: backend.fold(step, x, shifts))
        self._objective = backend.compile(objective)

    def score(self, image: np.ndarray) -> float:
        return float(self._objective(np.asarray(image, np.float32)[None])[0])

    def dream(self, photo: np.ndarray, steps: int, octaves: int, octave_scale: float,
              rng: np.random.Generator, log=None) -> np.ndarray:
        original = np.asarray(photo, np.float32)[None]
        h, w = photo.shape[:2]
        shapes = [(max(self.min_side, round(h / octave_scale ** i)), max(self.min_side, round(w / octave_scale ** i)))
                  for i in reversed(range(octaves))]
        shrunk = backend.resize(original, shapes[0])
        x = shrunk
        t0 = time.perf_counter()
        for n, shape in enumerate(shapes):
            if n:  # upscale the dream, then restore the detail the smaller octave never had
                target = backend.resize(original, shape)
                x = backend.resize(x, shape) + (target - backend.resize(shrunk, shape))
                shrunk = target
            shifts = rng.integers(-16, 17, size=(steps, 2)).astype(np.int32)
            x = np.asarray(self._steps(np.clip(x, 0, 255).astype(np.float32), shifts))
            if log:
                print(f"octave {n + 1}/{octaves} {shape[1]}x{shape[0]}: done "
                      f"({time.perf_counter() - t0:.1f} s)", file=log, flush=True)
        return to_uint8(x[0])
