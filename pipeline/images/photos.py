"""The photos the atlas uses: scikit-image's own (no download) or a file, always as RGB bytes.

A photo is named by a path or by ``skimage:NAME``. The scorecard compares every picture with
:data:`PHOTOS`; the examples default to them; a dream starts from one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, UnidentifiedImageError

from ..errors import AtlasError

SKIMAGE = "skimage:"
# Real photographs shipped inside scikit-image (no download): people, animals, objects,
# textures, astronomy, microscopy. Synthetic images (logo, colour wheel, blobs) are left out.
PHOTOS = ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel",
          "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket")


def is_skimage(spec: str) -> bool:
    return spec.startswith(SKIMAGE)


def _skimage_loader(spec: str):
    loader = getattr(skimage.data, spec[len(SKIMAGE):], None)
    return loader if callable(loader) else None


def check(spec: str, setting: str) -> None:
    """One line, before any compute, when ``spec`` names no photo; ``setting`` says where it was
    given (e.g. "config: dreams[0].photo")."""
    if is_skimage(spec):
        if _skimage_loader(spec) is None:
            raise AtlasError(f"{setting} = {spec!r} is not a skimage.data image; expected a "
                             "file path or e.g. skimage:chelsea")
    elif not Path(spec).expanduser().is_file():
        raise AtlasError(f"{setting} = {spec!r} does not exist; expected an image file path "
                         "or skimage:NAME")


def open_image(spec: str | Path) -> Image.Image:
    """The photo ``spec`` names, fully read (a truncated file fails here, not later), as RGB;
    transparency is laid over white. Raises OSError (or ValueError) for a file Pillow cannot read."""
    if isinstance(spec, str) and is_skimage(spec):
        img = Image.fromarray(np.asarray(_skimage_loader(spec)()))
    else:
        img = Image.open(Path(spec).expanduser())
        img.load()
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
    return img.convert("RGB")


def load(spec: str) -> np.ndarray:
    """RGB uint8 of a photo a setting names (a dream's start), or one line saying why not."""
    check(spec, "dreams: photo")
    try:
        return np.asarray(open_image(spec))
    except (UnidentifiedImageError, OSError) as exc:
        raise AtlasError(f"dreams: photo {spec!r} could not be read as an image ({exc})") from None


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop, resized to ``size``; greyscale and RGBA become RGB."""
    img = Image.fromarray(np.asarray(image)).convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    return np.asarray(img)


def scorecard_photos(size: int) -> np.ndarray:
    """(n, size, size, 3) uint8: :data:`PHOTOS`, square-cropped: what a picture's strength is
    measured against."""
    return np.stack([square(getattr(skimage.data, name)(), size) for name in PHOTOS])
