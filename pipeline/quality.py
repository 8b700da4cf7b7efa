"""How good a filter visualisation is, in numbers a person's eye agrees with.

- ``spectral_share``: fraction of the image's power above half the Nyquist frequency.
  Photos keep almost all their power low; adversarial noise puts most of it high.
- ``robustness``: the filter's activation on randomly jittered (+-8 px), rotated (+-10 deg) and
  rescaled (0.9-1.1) copies, over its activation on the image itself, mean of 16 draws. A real
  feature survives being moved a little. The copies sit on a canvas of the ImageNet mean
  colour, so what a move pushes out of the frame counts as lost (reflect-padding would
  mirror it back in and hide the loss).
- ``strength``: the image's activation of its own filter over the highest activation that
  filter reaches on any of the photos that ``skimage.data`` ships. Above 1, the picture excites
  the filter more than any real photo does.

"Activation" here is the layer's real output (after the ReLU), averaged over space.
"""

from __future__ import annotations

import time

import numpy as np

from .record import Scorecard

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


def moved_copies(images: np.ndarray, draws: int, seed: int = 0) -> np.ndarray:
    """(n * draws, h, w, 3): each image shifted, rotated and rescaled ``draws`` times (the same
    draws for every image) on a canvas of the ImageNet mean colour."""
    from . import transforms  # Keras: imported by the jobs that measure, not by the pages

    rows = transforms.draw(np.random.default_rng(seed), draws, images.shape[1], 0, 8.0, (0.9, 1.1), 10.0)
    batch = np.repeat(np.asarray(images, np.float32), draws, axis=0)
    return np.asarray(transforms.apply(batch, np.tile(rows, (len(images), 1)), 0, canvas="mean"))


# The scorecard's thresholds, stated in the README: above them a picture is to be trusted.
STRONG, ROBUST, SMOOTH = 1.0, 0.8, 0.15


def verdict(strength: float, best_photo: str, robustness: float, share: float) -> str:
    """One line in plain words, e.g. "beats every photo, holds up when moved, no high-frequency noise"."""
    return ", ".join([
        "beats every photo" if strength > STRONG else f"weaker than the photo {best_photo!r}",
        "holds up when moved" if robustness >= ROBUST else f"keeps only {robustness:.0%} when moved",
        "no high-frequency noise" if share <= SMOOTH else "much high-frequency noise"])


class Probe:
    """Measures a layer's filters on given images with one cut model (post-ReLU means)."""

    def __init__(self, cut_model, preprocess_mode: str):
        import keras
        import tensorflow as tf

        from .vgg16 import preprocess

        self.model, self.mode = cut_model, preprocess_mode

        def means(images):
            acts = tf.nn.relu(self.model(preprocess(images, self.mode)))
            return tf.reduce_mean(acts, axis=(1, 2))  # (n, channels)
        self._means = tf.function(means, reduce_retracing=True)

        # A scorecard needs each picture's own filter only: the last conv computes just the
        # filters asked for (a moved copy shares its picture's), not the whole layer, which is
        # most of the work at the first layers.
        last = self.model.layers[-1]
        below = keras.Model(self.model.input, last.input)  # the input itself at the first layer

        def own(images, filters):
            asked, which = tf.unique(filters)
            x = tf.cast(below(preprocess(images, self.mode)), last.kernel.dtype)  # bfloat16 below, if mixed
            out = tf.nn.conv2d(x, tf.gather(last.kernel, asked, axis=3), 1, "SAME") + tf.gather(last.bias, asked)
            means = tf.reduce_mean(tf.nn.relu(out), axis=(1, 2))  # (n, asked)
            return tf.gather(means, which, batch_dims=1)  # (n,)
        self._own = tf.function(own, reduce_retracing=True)

    def activations(self, images: np.ndarray, batch: int = 32) -> np.ndarray:
        """(n, channels): every filter's mean post-ReLU activation on each image, ``batch`` images
        per forward pass so memory stays bounded however many there are."""
        images = np.asarray(images, np.float32)
        return np.concatenate([self._means(images[i:i + batch]).numpy()
                               for i in range(0, len(images), batch)])

    def own(self, images: np.ndarray, filters: list[int], batch: int = 32) -> np.ndarray:
        """(n,): image i's mean post-ReLU activation of filter ``filters[i]`` alone."""
        images, filters = np.asarray(images, np.float32), np.asarray(filters, np.int32)
        return np.concatenate([self._own(images[i:i + batch], filters[i:i + batch]).numpy()
                               for i in range(0, len(images), batch)])

    def robustness(self, image: np.ndarray, filter_index: int, draws: int = 16, seed: int = 0) -> float:
        own = self.activations(image[None])[0, filter_index]
        if own <= 0:
            return float("nan")
        moved = self.activations(moved_copies(image[None], draws, seed))
        return float(moved[:, filter_index].mean() / own)

    def scorecards(self, images: np.ndarray, filters: list[int], photo_acts: np.ndarray,
                   draws: int = 8) -> list[Scorecard | None]:
        """Each picture's scorecard for its own filter, batched: two forward passes in all,
        the last conv computing only the filters asked for.

        None where the filter does not fire on its picture: nothing there to trust or not.
        """
        t0 = time.perf_counter()
        own = self.own(images, filters)
        moved = self.own(moved_copies(images, draws), np.repeat(filters, draws)).reshape(len(images), draws)
        shares = [spectral_share(image) for image in images]
        each = (time.perf_counter() - t0) / len(images)
        cards = []
        for i, f in enumerate(filters):
            if own[i] <= 0:
                cards.append(None)
                continue
            best = int(np.argmax(photo_acts[:, f]))
            strength = float(own[i] / photo_acts[best, f]) if photo_acts[best, f] > 0 else float("inf")
            robust, share = float(moved[i].mean() / own[i]), shares[i]
            cards.append(Scorecard(round(strength, 4), PHOTOS[best], round(robust, 4), round(share, 5),
                                   verdict(strength, PHOTOS[best], robust, share), round(each, 4)))
        return cards

    def strength(self, image: np.ndarray, filter_index: int, photo_acts: np.ndarray) -> float:
        own = self.activations(image[None])[0, filter_index]
        best = photo_acts[:, filter_index].max()
        return float(own / best) if best > 0 else float("inf")
