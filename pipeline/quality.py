"""How good a filter visualisation is, in numbers a person's eye agrees with.

- ``spectral_share``: fraction of the image's power above half the Nyquist frequency.
  Photos keep almost all their power low; adversarial noise puts most of it high.
- ``robustness``: the filter's activation on randomly jittered (+-8 px), rotated (+-10 deg) and
  rescaled (0.9-1.1) copies, over its activation on the image itself, mean of 16 draws. A real
  feature survives being moved a little.
- ``strength``: the image's activation of its own filter over the highest activation that
  filter reaches on any of the photos that ``skimage.data`` ships. Above 1, the picture excites
  the filter more than any real photo does.

"Activation" here is the layer's real output (after the ReLU), averaged over space.
"""

from __future__ import annotations

import numpy as np

from . import transforms
from .vgg16 import preprocess

# Real photographs shipped inside scikit-image (no download): people, animals, objects,
# textures, astronomy, microscopy. Synthetic images (logo, colour wheel, blobs) are left out.
PHOTOS = ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel",
          "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket")


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop, resized to ``size``; greyscale and RGBA become RGB."""
    from PIL import Image

    img = Image.fromarray(np.asarray(image)).convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    return np.asarray(img)


def photos(size: int) -> np.ndarray:
    """(n, size, size, 3) uint8: the ``skimage.data`` photos, square-cropped."""
    import skimage.data

    return np.stack([square(getattr(skimage.data, name)(), size) for name in PHOTOS])


def spectral_share(image: np.ndarray) -> float:
    """Power above half the Nyquist frequency (0.25 cycles/pixel) over all power, mean removed."""
    x = np.asarray(image, np.float64)
    x = x - x.mean(axis=(0, 1), keepdims=True)
    power = (np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2).sum(axis=-1)
    fy = np.fft.fftfreq(x.shape[0])[:, None]
    fx = np.fft.fftfreq(x.shape[1])[None, :]
    high = np.sqrt(fx * fx + fy * fy) > 0.25
    total = power.sum()
    return float(power[high].sum() / total) if total > 0 else 0.0


class Probe:
    """Measures a layer's filters on given images with one cut model (post-ReLU means)."""

    def __init__(self, cut_model, preprocess_mode: str):
        import tensorflow as tf

        self.model, self.mode = cut_model, preprocess_mode

        def means(images):
            acts = tf.nn.relu(self.model(preprocess(images, self.mode)))
            return tf.reduce_mean(acts, axis=(1, 2))  # (n, channels)
        self._means = tf.function(means, reduce_retracing=True)

    def activations(self, images: np.ndarray) -> np.ndarray:
        """(n, channels): every filter's mean post-ReLU activation on each image."""
        return self._means(np.asarray(images, np.float32)).numpy()

    def robustness(self, image: np.ndarray, filter_index: int, draws: int = 16, seed: int = 0) -> float:
        rng = np.random.default_rng(seed)
        size = image.shape[0]
        rows = transforms.draw(rng, draws, size, 0, 8.0, (0.9, 1.1), 10.0)
        batch = np.repeat(np.asarray(image, np.float32)[None], draws, axis=0)
        moved = np.asarray(transforms.apply(batch, rows, 0))
        own = self.activations(image[None])[0, filter_index]
        if own <= 0:
            return float("nan")
        return float(self.activations(moved)[:, filter_index].mean() / own)

    def strength(self, image: np.ndarray, filter_index: int, photo_acts: np.ndarray) -> float:
        own = self.activations(image[None])[0, filter_index]
        best = photo_acts[:, filter_index].max()
        return float(own / best) if best > 0 else float("inf")
