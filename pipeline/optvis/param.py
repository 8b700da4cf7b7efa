"""Image parameterisations: what the optimiser actually changes.

A parameterisation is a value with ``start(rngs)`` (the batch's starting params, NumPy, one
item per generator), ``to_image(params)`` (RGB pixels in [0, 255], batch first, the input the
network expects), ``project(params)`` (the params made valid again after a step),
``finish(image)`` (a float picture to PNG-ready bytes) and ``with_bands(count)`` (the same for a
network that takes ``count`` bands rather than RGB: a digit classifier's one grey band).

- :class:`Pixels` is Chollet 2016's choice: the RGB values themselves, from grey noise.
- :class:`FourierImage` is Lucid's: a per-channel spectrum scaled by 1/frequency (so every
  frequency starts equally easy to change, rather than high frequencies being as cheap as low
  ones), through :func:`to_valid_rgb`.
- :class:`MacoImage` is Fel et al. 2023's: only the spectrum's phase, over a fixed magnitude
  measured on photos (``spectrum.py``), through the same.
- :class:`Decorrelated` reads any of them in the decorrelated colour basis (Lucid's pixels).
- :class:`Photo` starts from photos and keeps their pixels valid: dreams and caricatures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from keras import ops

from . import deprocess

# Square root of ImageNet's RGB colour correlation (its SVD), as used by Lucid: colours are
# optimised in this decorrelated basis so a step moves luminance and hue independently.
COLOR_CORRELATION_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
COLOR_BASIS = COLOR_CORRELATION_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SQRT, axis=0))


def to_valid_rgb(x):
    """Lucid's ``to_valid_rgb(decorrelate=True)``: (batch, h, w, 3) values in the decorrelated
    colour basis to RGB pixels in [0, 255], through a sigmoid, so every value is a valid pixel.
    Other than three bands have no colour basis to decorrelate: each band goes through the
    sigmoid as it is (Lucid's ``decorrelate=False``)."""
    if x.shape[-1] != 3:
        return ops.sigmoid(x) * 255.0
    return ops.sigmoid(ops.matmul(x, COLOR_BASIS.T)) * 255.0


class Parameterisation:
    """What every parameterisation shares: params need no projection, and a float picture
    becomes bytes as it is."""

    size: int | None  # the square side it draws; None: the photos' own

    def with_bands(self, count: int) -> Parameterisation:
        """This parameterisation for a ``count``-band input (one that starts from photos takes
        theirs)."""
        return self

    def project(self, params):
        return params

    def finish(self, image: np.ndarray) -> np.ndarray:
        return deprocess.to_uint8(image)


@dataclass(frozen=True)
class Pixels(Parameterisation):
    """Chollet 2016: the pixels themselves, from ``mean`` grey plus Gaussian noise of ``std``;
    the picture's contrast normalised at the end (``deprocess.chollet``)."""

    size: int
    mean: float
    std: float
    count: int = 3  # bands

    def with_bands(self, count: int) -> Pixels:
        return dataclasses.replace(self, count=count)

    def start(self, rngs: list[np.random.Generator]) -> np.ndarray:
        return np.stack([rng.normal(self.mean, self.std, size=(self.size, self.size, self.count)).astype(np.float32)
                         for rng in rngs])

    def to_image(self, params):
        return params

    def finish(self, image: np.ndarray) -> np.ndarray:
        return deprocess.chollet(image)


@dataclass(frozen=True)
class Decorrelated(Parameterisation):
    """Another parameterisation's output read in the decorrelated colour basis and made valid
    pixels (:func:`to_valid_rgb`): Lucid's ``image(fft=False, decorrelate=True)`` over
    :class:`Pixels` that start at 0 with Lucid's small noise."""

    inner: Parameterisation

    @property
    def size(self) -> int | None:
        return self.inner.size

    def with_bands(self, count: int) -> Decorrelated:
        return Decorrelated(self.inner.with_bands(count))

    def start(self, rngs: list[np.random.Generator]) -> np.ndarray:
        return self.inner.start(rngs)

    def to_image(self, params):
        return to_valid_rgb(self.inner.to_image(params))


@dataclass(frozen=True)
class Photo(Parameterisation):
    """Pixels that start as photos (handed to the render loop) and stay in [0, 255]."""

    size: int | None = None

    def to_image(self, params):
        return params

    def project(self, params):
        return ops.clip(params, 0.0, 255.0)


class FourierImage(Parameterisation):
    """Real-valued inverse 2-D FFT as two matrix products, so any Keras backend can run it.

    ``irfft2d`` is linear; writing it as matmuls with fixed cosine/sine bases keeps the whole
    render in ``keras.ops`` and costs a few MFLOP per image, negligible beside the network.
    """

    def __init__(self, size: int, decay: float, cutoff: float, sd: float, count: int = 3):
        self.size, self.sd, self.count = size, sd, count
        self.args = (size, decay, cutoff, sd)
        h = w = size
        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.rfftfreq(w)[None, :]
        freq = np.sqrt(fx * fx + fy * fy)
        # 1/f scaling (Lucid's): natural images have ~1/f amplitude, so the parameters start white.
        scale = (1.0 / np.maximum(freq, 1.0 / max(h, w))) ** decay * np.sqrt(h * w)
        if cutoff > 0:
            # Frequency penalisation: a Gaussian roll-off above ``cutoff`` cycles/pixel. Adam
            # takes equal-sized steps on every coefficient, so the scale alone decides how fast
            # each frequency can grow; damping it keeps pixel-level noise from ever building up.
            scale = scale * np.exp(-((freq / cutoff) ** 2))
        self.scale = scale.astype(np.float32)
        self.shape = (count, h, w // 2 + 1)
        ky, hh = np.arange(h)[:, None], np.arange(h)[None, :]
        kx, ww = np.arange(w // 2 + 1)[:, None], np.arange(w)[None, :]
        # irfft counts each interior column twice (its conjugate twin); DC and Nyquist once.
        twice = np.full((w // 2 + 1, 1), 2.0)
        twice[0] = 1.0
        if w % 2 == 0:
            twice[-1] = 1.0
        ang_y = 2 * np.pi * ky * hh / h            # (ky, h)
        ang_x = 2 * np.pi * kx * ww / w            # (kx, w)
        self.cy = np.cos(ang_y).T.astype(np.float32) / h   # (h, ky)
        self.sy = np.sin(ang_y).T.astype(np.float32) / h
        self.cx = (np.cos(ang_x) * twice).astype(np.float32) / w  # (kx, w)
        self.sx = (np.sin(ang_x) * twice).astype(np.float32) / w

    def with_bands(self, count: int) -> FourierImage:
        return self if count == self.count else FourierImage(*self.args, count=count)

    def start(self, rngs: list[np.random.Generator]) -> np.ndarray:
        """(batch, 2, bands, h, w//2+1): real and imaginary parts, small noise of ``sd`` as in Lucid."""
        return np.stack([rng.normal(0.0, self.sd, size=(2,) + self.shape).astype(np.float32) for rng in rngs])

    def irfft2(self, spectrum):
        """spectrum (batch, 2, bands, h, kx) -> (batch, bands, h, w), equal to numpy's irfft2."""
        re, im = spectrum[:, 0], spectrum[:, 1]
        p = ops.matmul(re, self.cx) - ops.matmul(im, self.sx)   # (b, bands, ky, w)
        q = ops.matmul(re, self.sx) + ops.matmul(im, self.cx)
        return ops.matmul(self.cy, p) - ops.matmul(self.sy, q)  # (b, bands, h, w)

    def to_image(self, spectrum):
        """Parameters -> RGB pixels in [0, 255] (batch, h, w, 3)."""
        # Lucid's fft_image divides by the same 4: it sets the pictures' contrast at a given
        # spectrum (every recipe here was tuned with it; changing it changes every picture).
        x = self.irfft2(spectrum * self.scale) / 4.0
        return to_valid_rgb(ops.transpose(x, (0, 2, 3, 1)))


class MacoImage(Parameterisation):
    """MaCo (Fel et al. 2023): the phase is the parameter and the magnitude stays natural
    images' own, so the picture keeps photos' energy at every frequency, however far the
    ascent goes; at deep layers that keeps it from filling with high-frequency patterns."""

    def __init__(self, magnitude: np.ndarray, grey: np.ndarray | None = None):
        self.magnitude = np.asarray(magnitude, np.float32)  # (bands, h, w//2+1)
        self.grey = grey  # (1, h, w//2+1): photos' luminance, each band's where there are not three
        self.shape = self.magnitude.shape
        self.size = self.shape[1]
        self.fft = FourierImage(self.size, 0.0, 0.0, 0.0)  # its inverse-FFT bases only

    def with_bands(self, count: int) -> MacoImage:
        """Other than three bands have no colour basis (:func:`to_valid_rgb`): every band holds
        photos' luminance spectrum, measured in that plain space (``spectrum.grey_magnitude_of``)."""
        if count == self.shape[0]:
            return self
        if self.grey is None:
            raise ValueError(f"MacoImage for {count} bands needs photos' grey magnitude (spectrum.natural(grey=True))")
        return MacoImage(np.repeat(np.asarray(self.grey, np.float32), count, axis=0), self.grey)

    def start(self, rngs: list[np.random.Generator]) -> np.ndarray:
        """(batch, bands, h, w//2+1) phases, uniform: a random texture with photos' spectrum."""
        return np.stack([rng.uniform(-np.pi, np.pi, self.shape).astype(np.float32) for rng in rngs])

    def to_image(self, phase):
        """Phases (batch, 3, h, kx) -> RGB pixels in [0, 255] (batch, h, w, 3)."""
        spectrum = ops.stack([self.magnitude * ops.cos(phase), self.magnitude * ops.sin(phase)], axis=1)
        return to_valid_rgb(ops.transpose(self.fft.irfft2(spectrum), (0, 2, 3, 1)))
