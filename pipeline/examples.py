"""Dataset examples: the real image patches that excite each filter most (Microscope's view).

One pass over the images measures all 13 conv layers at once (a model with every conv's
output before its ReLU as an output). For each filter it keeps a running top K of images by
the filter's largest activation anywhere in the image, at most one position per image, so
memory is bounded by the batch, not by the folder. Ties go to the image whose path sorts
first: images are read in sorted path order and a later image must beat, not equal.

Each kept position is shown as the crop of the layer's receptive field around it, clipped to
the image: the pixels that unit can see.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AtlasError
from .vgg16 import LAYERS, ConvLayer

SKIMAGE = "skimage"
TILE = 64  # px: one crop in a filter's mosaic


def image_suffixes() -> set[str]:
    """Every file suffix Pillow can read (JPEG, PNG, WebP, TIFF, BMP, GIF, ...)."""
    from PIL import Image

    return {ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


@dataclass(frozen=True)
class Source:
    """One image: ``name`` is its path relative to the folder (``skimage:NAME`` for the built-in)."""

    name: str
    path: Path | None  # None for a skimage photo


def sources(setting: str) -> tuple[list[Source], int]:
    """The images ``setting`` names, in sorted path order, and how many links were refused.

    A folder is walked recursively. A symbolic link to a file is followed when it resolves
    inside the folder and refused (counted) otherwise; linked folders are not entered.
    """
    if setting == SKIMAGE:
        from .quality import PHOTOS

        return [Source(f"skimage:{name}", None) for name in PHOTOS], 0
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
    return sorted(found, key=lambda s: s.name), refused


def _raise(error: OSError) -> None:
    raise AtlasError(f"config: examples = {error.filename!r} cannot be read ({error.strerror}); "
                     "expected a readable folder of images") from None


def check(setting: str) -> None:
    """One line, before any compute, when ``setting`` cannot give examples."""
    if setting in (SKIMAGE, "none"):
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


def load(source: Source, side: int) -> tuple[np.ndarray, tuple[float, float]]:
    """RGB uint8 resized so its shorter side is ``side`` and its longer side a multiple of 32
    (at most 7% off its aspect), and the (x, y) scales from the original. Few distinct shapes
    let the convolutions reuse their plans: a new shape for every image ran 6 times slower."""
    from PIL import Image

    if source.path is None:
        import skimage.data

        img = Image.fromarray(np.asarray(getattr(skimage.data, source.name.split(":", 1)[1])()))
    else:
        img = Image.open(source.path)
        img.load()  # a truncated file fails here, not later
    img = img.convert("RGB")
    scale = side / min(img.size)
    size = [side if v == min(img.size) else max(32, round(v * scale / 32) * 32) for v in img.size]
    return np.asarray(img.resize(tuple(size), Image.BILINEAR)), (size[0] / img.size[0], size[1] / img.size[1])


class TopK:
    """Each filter's ``k`` best images so far: activation, image index, position (y, x)."""

    def __init__(self, channels: int, k: int):
        self.value = np.full((channels, k), -np.inf, np.float32)
        self.image = np.full((channels, k), -1, np.int64)
        self.where = np.zeros((channels, k, 2), np.int32)

    def add(self, index: int, values: np.ndarray, where: np.ndarray) -> None:
        """One image's best value per filter (channels,) and its position (channels, 2)."""
        value = np.concatenate([self.value, values[:, None]], 1)
        image = np.concatenate([self.image, np.full((len(values), 1), index)], 1)
        spot = np.concatenate([self.where, where[:, None]], 1)
        # Largest value first; among equal values the earlier image (sorted path) first.
        order = np.lexsort((image, -value), axis=1)[:, : self.value.shape[1]]
        self.value = np.take_along_axis(value, order, 1)
        self.image = np.take_along_axis(image, order, 1)
        self.where = np.take_along_axis(spot, order[..., None], 1)


def all_convs_model(base):
    """One model whose outputs are all 13 convs' outputs before their ReLU."""
    import keras

    inputs = keras.Input(shape=(None, None, 3))
    x, outs = inputs, []
    for lyr in base.layers[1:]:
        if "conv" in lyr.name:
            config = lyr.get_config()
            config.update(activation="linear", name=f"{lyr.name}_preact")
            conv = keras.layers.Conv2D.from_config(config)
            x = conv(x)
            conv.set_weights(lyr.get_weights())
            outs.append(x)
            x = keras.ops.relu(x)
        else:
            x = lyr(x)
    return keras.Model(inputs, outs)


@dataclass
class Scan:
    """What one pass over the images found."""

    sources: list[Source]
    best: dict[str, TopK]
    worst: dict[str, TopK] | None
    skipped: list[str]
    refused: int
    seconds: float


def scan(model, preprocess_mode: str, setting: str, side: int, k: int, negative: bool,
         batch: int = 8, log=sys.stderr) -> Scan:
    """Stream every image once through ``model``; keep the running top (and bottom) ``k``."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    import tensorflow as tf

    from .vgg16 import preprocess

    found, refused = sources(setting)
    forward = tf.function(lambda x: model(preprocess(x, preprocess_mode)), reduce_retracing=True)
    best = {l.name: TopK(l.filters, k) for l in LAYERS}
    worst = {l.name: TopK(l.filters, k) for l in LAYERS} if negative else None
    skipped, t0, said = [], time.perf_counter(), 0.0

    def measure(group: list[tuple[int, np.ndarray]]) -> None:
        maps = forward(np.stack([img for _, img in group]).astype(np.float32))
        for lyr, m in zip(LAYERS, maps):
            m = m.numpy().reshape(len(group), -1, lyr.filters)
            width = int(maps[lyr.index].shape[2])
            for (index, _), flat in zip(group, m):
                at = flat.argmax(0)
                best[lyr.name].add(index, flat.max(0), np.stack([at // width, at % width], 1))
                if worst is not None:  # the most negative: the top k of the negated map
                    at = flat.argmin(0)
                    worst[lyr.name].add(index, -flat.min(0), np.stack([at // width, at % width], 1))

    def read(i: int):
        try:
            return i, load(found[i], side)[0]
        except (OSError, ValueError, SyntaxError):
            return i, None

    def decoded():
        """Images in order, decoded beside the forward passes; at most 2 batches ahead, so
        memory stays bounded by the batch (Executor.map would decode the whole folder)."""
        ahead = deque()
        with ThreadPoolExecutor(max_workers=2) as pool:
            for i in range(len(found)):
                ahead.append(pool.submit(read, i))
                if len(ahead) > 2 * batch:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    group: list[tuple[int, np.ndarray]] = []
    for done, (i, img) in enumerate(decoded(), 1):
        if img is None:
            skipped.append(found[i].name)
        else:
            if group and (img.shape != group[0][1].shape or len(group) == batch):
                measure(group)
                group = []
            group.append((i, img))
        now = time.perf_counter() - t0
        if now - said > 10 or done == len(found):
            said, rate = now, done / max(now, 1e-9)
            print(f"examples: {done}/{len(found)} images, {rate:.1f} images/s, about "
                  f"{_duration((len(found) - done) / max(rate, 1e-9))} left", file=log, flush=True)
    if group:
        measure(group)
    if skipped:
        print(f"examples: skipped {len(skipped)} unreadable or truncated files "
              f"(first: {', '.join(skipped[:3])})", file=log, flush=True)
    return Scan(found, best, worst, skipped, refused, time.perf_counter() - t0)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 \
        else f"{seconds / 3600:.1f} h"


def fingerprint(setting: str) -> str:
    """What the examples depend on in the folder: every image's path, size and time. A new,
    changed or removed image changes it, and so reruns the examples (and only them)."""
    import hashlib

    if setting in (SKIMAGE, "none"):
        return setting
    digest = hashlib.sha256()
    for s in sources(setting)[0]:
        st = s.path.stat()
        digest.update(f"{s.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def box(lyr: ConvLayer, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in the resized image: the receptive field of the unit at
    (y, x) of ``lyr``'s map, clipped to the image. A unit's field is centred on the middle of
    the ``stride`` input pixels it stands for."""
    half = lyr.receptive_field // 2
    cy, cx = y * lyr.stride + (lyr.stride - 1) // 2, x * lyr.stride + (lyr.stride - 1) // 2
    return (max(0, cx - half), max(0, cy - half), min(width, cx + half + 1), min(height, cy + half + 1))


def tile(crop: np.ndarray) -> np.ndarray:
    """A crop fitted into a TILE x TILE square (aspect kept, grey around a clipped crop)."""
    from PIL import Image

    img = Image.fromarray(crop)
    scale = TILE / max(img.size)
    img = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))), Image.LANCZOS)
    out = Image.new("RGB", (TILE, TILE), (40, 40, 40))
    out.paste(img, ((TILE - img.size[0]) // 2, (TILE - img.size[1]) // 2))
    return np.asarray(out)


def mosaic(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Tiles row by row, ``columns`` to a row; a filter with no example gets one grey tile."""
    rows = max(1, -(-len(tiles) // columns))
    sheet = np.full((rows * TILE, columns * TILE, 3), 40, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = t
    return sheet
