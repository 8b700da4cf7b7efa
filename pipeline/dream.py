"""Dreams: start from a photo instead of noise and ascend chosen filters (DeepDream-style).

The photo is processed at several scales ("octaves"), smallest first; after each octave the
detail that shrinking lost is added back, so large images stay sharp. Each step moves the
pixels along the L2-normalised gradient (Chollet 2016's update) after a random shift of the image,
which keeps the filters' patterns from locking onto one pixel grid.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .deprocess import to_uint8
from .errors import AtlasError
from .vgg16 import MIN_SIZE, preprocess

SKIMAGE = "skimage:"


def load_photo(spec: str) -> np.ndarray:
    """RGB uint8 from a path or ``skimage:NAME``; greyscale and RGBA (over white) converted."""
    from PIL import Image, UnidentifiedImageError

    if spec.startswith(SKIMAGE):
        import skimage.data

        name = spec[len(SKIMAGE):]
        loader = getattr(skimage.data, name, None)
        if loader is None or not callable(loader):
            raise AtlasError(f"dreams: photo {spec!r} is not a skimage.data image (e.g. skimage:chelsea)")
        img = Image.fromarray(np.asarray(loader()))
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise AtlasError(f"dreams: photo {spec!r} does not exist; give an image file or skimage:NAME")
        try:
            img = Image.open(path)
            img.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise AtlasError(f"dreams: photo {spec!r} could not be read as an image ({exc})") from None
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return np.asarray(img.convert("RGB"))


def fit(image: np.ndarray, max_side: int) -> np.ndarray:
    """Resize so the longer side is ``max_side``, keeping the aspect ratio (no crop)."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    size = (max(MIN_SIZE, round(w * scale)), max(MIN_SIZE, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


def _resize(x: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    import tensorflow as tf

    return tf.image.resize(x, hw, method="bicubic").numpy()


class Dreamer:
    """Ascends the mean activation of chosen filters of ``model`` (a cut model) from a photo."""

    def __init__(self, model, filters: list[int], preprocess_mode: str, step_size: float):
        import tensorflow as tf
        from keras import ops

        from .ascent import gradient, normalised

        self.model, self.mode = model, preprocess_mode
        channels = np.asarray(filters, np.int32)

        def objective(x):  # mean over the chosen filters of their mean pre-ReLU activation
            means = ops.mean(self.model(preprocess(x, self.mode)), axis=(1, 2))
            return ops.mean(ops.take(means, channels, axis=1), axis=1)

        def steps(x, shifts):
            for i in tf.range(tf.shape(shifts)[0]):
                rolled = tf.roll(x, shifts[i], axis=(1, 2))
                _, g = gradient(objective, rolled)
                g = tf.roll(g, -shifts[i], axis=(1, 2))
                x = tf.clip_by_value(x + step_size * normalised(g), 0.0, 255.0)
            return x

        self._steps = tf.function(steps, reduce_retracing=True)
        self._objective = tf.function(objective, reduce_retracing=True)

    def score(self, image: np.ndarray) -> float:
        return float(self._objective(np.asarray(image, np.float32)[None])[0])

    def dream(self, photo: np.ndarray, steps: int, octaves: int, octave_scale: float,
              rng: np.random.Generator, log=None) -> np.ndarray:
        original = np.asarray(photo, np.float32)[None]
        h, w = photo.shape[:2]
        shapes = [(max(MIN_SIZE, round(h / octave_scale ** i)), max(MIN_SIZE, round(w / octave_scale ** i)))
                  for i in reversed(range(octaves))]
        shrunk = _resize(original, shapes[0])
        x = shrunk
        t0 = time.perf_counter()
        for n, shape in enumerate(shapes):
            if n:  # upscale the dream, then restore the detail the smaller octave never had
                target = _resize(original, shape)
                x = _resize(x, shape) + (target - _resize(shrunk, shape))
                shrunk = target
            shifts = rng.integers(-16, 17, size=(steps, 2)).astype(np.int32)
            x = self._steps(np.clip(x, 0, 255).astype(np.float32), shifts).numpy()
            if log:
                print(f"octave {n + 1}/{octaves} {shape[1]}x{shape[0]}: done "
                      f"({time.perf_counter() - t0:.1f} s)", file=log, flush=True)
        return to_uint8(x[0])
