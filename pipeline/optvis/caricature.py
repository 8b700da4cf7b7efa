"""Caricatures: real photos pushed towards filters (feature accentuation, Hamblin et al. 2024),
through the render loop.

Where the atlas' picture answers "what does this filter want", a caricature answers "what in
this photo does it see": the climb starts from the filter's top dataset example instead of
noise and exaggerates what the filter responds to there. The parts: the photo's pixels
(``param.Photo``), each item's own filter's mean activation, a random roll before every step
(as a dream takes), and Chollet 2016's normalised step with a pull back towards the photo by
``tie`` of their distance (``optimise.NormalisedStep``), so no pixel drifts further than about
``step_size / tie`` levels from it: the photo stays recognisable, and the change is the
filter's. Many filters, each with its own photo, go in one batch.
"""

from __future__ import annotations

import numpy as np

from . import objectives, optimise, param, transform
from .parts import Parts
from .render import Draws, Goal, Progress, Renderer

STEP_SIZE = 2.0  # pixel levels per step along the normalised gradient, a dream's default
SHIFT = 8        # px: the largest roll before a step
STREAM = 300     # the caricatures' random stream, beside a layer's index


def caricaturist(model, preprocess_mode: str, tie: float, size: int, seeds: tuple[int, int]) -> Renderer:
    """A Renderer that accentuates ``size`` px photos towards filters of ``model``'s last layer
    (a cut model), the rolls of a batch drawn from ``seeds`` (the seed, the layer's index) and
    its first filter. Hand it the photos as ``start``."""
    parts = Parts(param.Photo(size), optimise.NormalisedStep(STEP_SIZE, tie), transform.Roll(SHIFT))
    seed, index = seeds
    return Renderer(Goal(model, preprocess_mode, objectives.channel()), parts, Draws(seed, (STREAM, index)))


def accentuate(artist: Renderer, photos: np.ndarray, filters: list[int], steps: int,
               progress: Progress | None = None) -> np.ndarray:
    """(n, h, w, 3) uint8: ``photos[i]`` pushed towards filter ``filters[i]`` for ``steps`` steps."""
    return np.stack([r.image for r in artist.render(filters, steps, start=photos, progress=progress)])
