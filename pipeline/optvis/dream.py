"""Dreams: a photo climbed towards chosen filters (DeepDream-style), through the render loop.

The parts: the photo's pixels (``param.Photo``), Chollet 2016's normalised step, a random roll
of up to 16 px before every step (``transform.Roll``, which keeps the filters' patterns from
locking onto one pixel grid), and the dream objective (``objectives.dream``). The photo is
processed at several scales ("octaves"), smallest first, an outer loop around the render: after
each octave the detail that shrinking lost is added back, so large images stay sharp.
"""

from __future__ import annotations

import time
from typing import TextIO

import numpy as np
from PIL import Image

from ..config import settings
from . import backend, objectives, optimise, param, transform
from .deprocess import to_uint8
from .parts import Parts
from .render import Draws, Goal, Progress, Renderer

SHIFT = 16  # px: the largest roll before a step


def fit(image: np.ndarray, max_side: int, min_side: int) -> np.ndarray:
    """Resize so the longer side is ``max_side``, keeping the aspect ratio (no crop), and the
    shorter at least ``min_side`` (the network's smallest input)."""
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    size = (max(min_side, round(w * scale)), max(min_side, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


class Dreamer:
    """Climbs the mean activation of ``spec``'s filters of ``model`` (a cut model) from a photo;
    ``rng`` draws every roll, octave after octave; no octave is smaller than ``least`` px."""

    def __init__(self, model, spec: settings.Dream, preprocess_mode: str, least: int, rng: np.random.Generator):
        self.spec, self.least = spec, least
        goal = Goal(model, preprocess_mode, objectives.dream(spec.filters))
        parts = Parts(param.Photo(), optimise.NormalisedStep(spec.step_size), transform.Roll(SHIFT, rng))
        self.renderer = Renderer(goal, parts, Draws(0, 0))  # no draw of its own: the photo starts, rng rolls

    def score(self, image: np.ndarray) -> float:
        return float(self.renderer.measure(np.asarray(image, np.float32)[None], [0])[0][0])

    def dream(self, photo: np.ndarray, log: TextIO) -> np.ndarray:
        """``photo`` dreamt, octave by octave, saying each octave's progress in ``log``."""
        count, ratio, least = self.spec.octaves, self.spec.octave_scale, self.least
        original = np.asarray(photo, np.float32)[None]
        h, w = photo.shape[:2]
        shapes = [(max(least, round(h / ratio ** i)), max(least, round(w / ratio ** i))) for i in reversed(range(count))]
        shrunk = backend.resize(original, shapes[0])
        x = shrunk
        t0 = time.perf_counter()
        for n, shape in enumerate(shapes):
            if n:  # upscale the dream, then restore the detail the smaller octave never had
                target = backend.resize(original, shape)
                x = backend.resize(x, shape) + (target - backend.resize(shrunk, shape))
                shrunk = target
            label = f"octave {n + 1}/{count} {shape[1]}x{shape[0]}"
            (drawn,) = self.renderer.render([0], self.spec.steps, start=np.clip(x, 0, 255),
                                            progress=Progress(label, log))
            x = drawn.pixels[None]
            print(f"{label}: done ({time.perf_counter() - t0:.1f} s)", file=log, flush=True)
        return to_uint8(x[0])
