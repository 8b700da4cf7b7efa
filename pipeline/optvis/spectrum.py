"""The natural magnitude spectrum MaCo holds fixed (Fel et al. 2023), computed offline.

The reference implementation downloads ImageNet's mean spectrum at run time; here it is the
mean Fourier magnitude of real photos: the 13 that scikit-image ships (the default, offline), or
an examples folder's images. It is measured in the space ``param.MacoImage`` builds pictures in
(the decorrelated colour basis, before the sigmoid), so a random phase over it gives an image
with photos' contrast and colour statistics. Computed once per source and size, and cached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from ..images import folder, photos
from ..images.bands import LUMA
from ..output import layout
from .param import COLOR_BASIS

MAX_IMAGES = 2000  # enough for a stable mean; a whole ImageNet folder would only cost time


def pixels_to_basis(images: np.ndarray) -> np.ndarray:
    """(n, h, w, 3) uint8 -> (n, 3, h, w): what ``MacoImage`` must produce to give these pixels
    (the inverse of its sigmoid, then of its colour basis)."""
    p = np.clip(np.asarray(images, np.float64) / 255.0, 1 / 255, 254 / 255)
    logits = np.log(p / (1 - p))
    return np.einsum("nhwc,dc->ndhw", logits, np.linalg.inv(COLOR_BASIS.astype(np.float64)))


def magnitude_of(images: np.ndarray) -> np.ndarray:
    """(3, h, w//2+1) float32: the mean |rfft2| of ``images`` in MacoImage's space."""
    return np.abs(np.fft.rfft2(pixels_to_basis(images), axes=(2, 3))).mean(axis=0).astype(np.float32)


def grey_magnitude_of(images: np.ndarray) -> np.ndarray:
    """(1, h, w//2+1) float32: the mean |rfft2| of ``images``' luminance before a sigmoid: the
    space MacoImage draws each band in where a network takes other than RGB (no colour basis)."""
    grey = np.clip(np.asarray(images, np.float64) @ LUMA / 255.0, 1 / 255, 254 / 255)
    return np.abs(np.fft.rfft2(np.log(grey / (1 - grey)), axes=(1, 2))).mean(axis=0)[None].astype(np.float32)


def _images(source: str, size: int) -> np.ndarray:
    if source == folder.SKIMAGE:
        return photos.scorecard_photos(size)
    found = folder.sources(source)[0][:MAX_IMAGES]
    squares = []
    for s in found:
        try:
            squares.append(photos.square(np.asarray(photos.open_image(s.path)), size))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue  # the examples job reports unreadable images; the mean does without them
    return np.stack(squares)


def natural(source: str, fingerprint: str, size: int, cache: Path, grey: bool = False) -> tuple[np.ndarray, str]:
    """The magnitude spectrum for ``size`` px pictures from ``source`` ('skimage' or a folder),
    in colour (or with ``grey`` of the luminance, :func:`grey_magnitude_of`), and the file both
    are cached in (its ``source`` field says where they came from)."""
    key = hashlib.sha256(f"{source}\0{fingerprint}\0{size}".encode()).hexdigest()[:16]
    path = Path(cache) / f"maco-spectrum-{size}-{key}.npz"
    which = "grey" if grey else "magnitude"
    try:
        with np.load(path) as saved:
            return saved[which], str(path)
    except (OSError, ValueError, KeyError, EOFError):
        pass
    images = _images(source, size)
    spectra = {"magnitude": magnitude_of(images), "grey": grey_magnitude_of(images)}
    layout.write_npz(path, **spectra, source=np.array(source),
                     fingerprint=np.array(fingerprint), images=np.array(len(images)))
    return spectra[which], str(path)
