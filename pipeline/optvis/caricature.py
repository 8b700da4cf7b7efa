"""Caricatures: a real photo pushed towards a filter (feature accentuation, Hamblin et al. 2024).

Where the atlas' picture answers "what does this filter want", a caricature answers "what in
this photo does it see": the ascent starts from the filter's top dataset example instead of
noise and exaggerates what the filter responds to there. Each step moves the pixels along the
L2-normalised gradient of the filter's mean activation (Chollet 2016's update, after a random
shift, as a dream does) and pulls them back towards the photo by ``tie`` of their distance, so
no pixel drifts further than about ``step_size / tie`` levels from it: the photo stays
recognisable, and the change is the filter's. Many filters, each with its own photo, go in one
batch.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from ..model.preprocess import preprocess
from . import backend, objectives
from .deprocess import to_uint8
from .optimise import normalised

STEP_SIZE = 2.0  # pixel levels per step along the normalised gradient, a dream's default
SHIFT = 8        # px: the random shift before each step


class Caricaturist:
    """Accentuates photos towards filters of ``model``'s last layer (a cut model)."""

    def __init__(self, model, preprocess_mode: str, tie: float, step_size: float = STEP_SIZE):
        self.model, self.mode = model, preprocess_mode

        def objective(x, targets):  # each item's own filter, its mean pre-ReLU activation
            return objectives.filter_means(self.model(preprocess(x, self.mode)), targets)

        def run(x, photos, targets, shifts):
            def step(x, shift):
                _, g = backend.gradient(lambda y: objective(ops.roll(y, shift, axis=(1, 2)), targets), x)
                return ops.clip(x + step_size * normalised(g) - tie * (x - photos), 0.0, 255.0)
            return backend.fold(step, x, shifts)

        self._run = backend.compile(run)
        self._objective = backend.compile(objective)

    def score(self, images: np.ndarray, targets: list[int]) -> np.ndarray:
        """(n,): each image's own filter's mean pre-ReLU activation."""
        return np.asarray(self._objective(np.asarray(images, np.float32), np.asarray(targets, np.int32)))

    def accentuate(self, photos: np.ndarray, targets: list[int], steps: int,
                   rng: np.random.Generator) -> np.ndarray:
        """(n, h, w, 3) uint8: ``photos[i]`` pushed towards filter ``targets[i]`` for ``steps`` steps."""
        x = np.asarray(photos, np.float32)
        shifts = rng.integers(-SHIFT, SHIFT + 1, size=(steps, 2)).astype(np.int32)
        return np.stack([to_uint8(im) for im in np.asarray(self._run(x, x, np.asarray(targets, np.int32), shifts))])
