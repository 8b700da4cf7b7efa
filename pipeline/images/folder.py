"""An examples folder: its images in sorted path order, checked once, and fingerprinted.

The folder is walked once per process (:func:`sources` is cached): the parse-time check and
the fingerprint share one listing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import AtlasError
from . import photos
from .bands import Bands

SKIMAGE = "skimage"  # the examples setting that means "the photos scikit-image ships"
NONE = "none"


def image_suffixes() -> set[str]:
    """Every file suffix Pillow can read (JPEG, PNG, WebP, TIFF, BMP, GIF, ...)."""
    return {ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


@dataclass(frozen=True)
class Source:
    """One image: ``name`` is its path relative to the folder (``skimage:NAME`` for the built-in)."""

    name: str
    path: Path | None  # None for a skimage photo


@lru_cache(maxsize=4)
def sources(setting: str) -> tuple[tuple[Source, ...], int]:
    """The images ``setting`` names, in sorted path order, and how many links were refused.

    A folder is walked recursively. A symbolic link to a file is followed when it resolves
    inside the folder and refused (counted) otherwise; linked folders are not entered.
    """
    if setting == SKIMAGE:
        return tuple(Source(f"{photos.SKIMAGE}{name}", None) for name in photos.PHOTOS), 0
    root = Path(setting).expanduser()
    inside, refused, found = root.resolve(), 0, []
    suffixes = image_suffixes()
    for folder, dirs, files in os.walk(root, onerror=_raise):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.suffix.lower() not in suffixes:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                refused += 1
                continue
            found.append(Source(path.relative_to(root).as_posix(), path))
    return tuple(sorted(found, key=lambda s: s.name)), refused


def _raise(error: OSError) -> None:
    raise AtlasError(f"config: examples = {error.filename!r} cannot be read ({error.strerror}); "
                     "expected a readable folder of images") from None


def check(setting: str) -> None:
    """One line, before any compute, when ``setting`` cannot give examples."""
    if setting in (SKIMAGE, NONE):
        return
    root = Path(setting).expanduser()
    allowed = "expected a folder of images, 'skimage' or 'none'"
    if not root.exists():
        raise AtlasError(f"config: examples = {setting!r} does not exist; {allowed}")
    if not root.is_dir():
        raise AtlasError(f"config: examples = {setting!r} is a file, not a folder; {allowed}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise AtlasError(f"config: examples = {setting!r} cannot be read (permission denied); {allowed}")
    found, _ = sources(setting)
    if not found:
        raise AtlasError(f"config: examples = {setting!r} holds no image files; {allowed}")
    if not any(_readable(s) for s in found):
        raise AtlasError(f"config: examples = {setting!r}: none of its {len(found)} image files can be "
                         f"read; {allowed}")


def _readable(source: Source) -> bool:
    try:
        load(source, 32)
        return True
    except (OSError, ValueError, SyntaxError):
        return False


@lru_cache(maxsize=4)
def fingerprint(setting: str) -> str:
    """What the examples depend on in the folder: every image's path, size and time. A new,
    changed or removed image changes it, and so reruns the examples (and only them).

    Cached like :func:`sources`, whose listing it reads: a Snakefile parse asks for it once per
    job settings (maco's spectrum: every ascent), and a folder of 50,000 images is as many stats."""
    if setting in (SKIMAGE, NONE):
        return setting
    digest = hashlib.sha256()
    for s in sources(setting)[0]:
        st = s.path.stat()
        digest.update(f"{s.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def unreadable(error: BaseException) -> str:
    """Why an image could not be read, in a few words for a reader (Pillow's own message)."""
    text = (str(error).splitlines() or [""])[0].strip().rstrip(".")
    return text[:160] or type(error).__name__


def load(source: Source, side: int, bands: Bands = Bands()) -> tuple[np.ndarray, tuple[float, float]]:
    """The image in the network's ``bands`` (RGB for most), uint8, resized so its shorter side
    is ``side`` and its longer side a multiple of 32 (at most 7% off its aspect), and the (x, y)
    scales from the original. Few distinct shapes let the convolutions reuse their plans: a new
    shape for every image ran 6 times slower."""
    img = photos.open_image(source.name if source.path is None else source.path)
    scale = side / min(img.size)
    size = [side if v == min(img.size) else max(32, round(v * scale / 32) * 32) for v in img.size]
    resized = np.asarray(img.resize(tuple(size), Image.BILINEAR))
    return bands.from_rgb(resized), (size[0] / img.size[0], size[1] / img.size[1])
