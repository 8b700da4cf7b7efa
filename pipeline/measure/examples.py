"""Dataset examples: the real image patches that excite each filter most (Microscope's view).

One pass over the images measures all 13 conv layers at once (a model with every conv's
output before its ReLU as an output, ``network.all_convs_model``). For each filter it keeps a
running top K of images by the filter's largest activation anywhere in the image, at most one
position per image, so memory is bounded by the batch, not by the folder. Ties go to the image
whose path sorts first: images are read in sorted path order and a later image must beat, not
equal.

Each kept position is shown as the crop of the layer's receptive field around it, clipped to
the image: the pixels that unit can see.

Beyond the top K shown, each filter keeps a pool for its trust scores (``measure/trust.py``):
the next strongest images up to :func:`pool_size`, and as many of the weakest (the images whose
strongest position is the lowest), with their positions, so the trust job reruns with new
images and never needs a second pass over the folder.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..config.estimate import duration
from ..images import folder
from ..images.bands import Bands, as_rgb
from ..model.description import ConvLayer
from ..model.preprocess import preprocess
from ..optvis import backend
from ..output.record import TILE, Example

GREY = 40  # what a clipped crop's tile and an empty mosaic show


def pool_size(top: int) -> int:
    """Images kept a side for the trust tasks: K references and K more as queries."""
    return 2 * top


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


@dataclass
class Scan:
    """What one pass over the images found."""

    sources: tuple[folder.Source, ...]
    best: dict[str, TopK]            # the strongest, pool_size(k) of them
    weakest: dict[str, TopK]         # the weakest by their strongest position, as many
    worst: dict[str, TopK] | None
    skipped: list[str]
    why: dict[str, str]              # each skipped file, and why it could not be read
    refused: int
    seconds: float
    bands: Bands = Bands()           # how its photos became the network's input


class Scanner:
    """Streams images through the all-convs ``model`` and keeps each filter's running top (and,
    with ``negative``, most negative) ``k``, and its trust pool."""

    batch = 8  # images per forward pass; decoding runs twice that far ahead

    def __init__(self, model, layers: list[ConvLayer], preprocess_mode: str, k: int, negative: bool,
                 bands: Bands = Bands()):
        self.bands = bands
        self.layers = layers  # the model's outputs, in order: every conv up to the deepest scanned
        self.forward = backend.compile(lambda x: model(preprocess(x, preprocess_mode)))
        self.best = {l.name: TopK(l.filters, pool_size(k)) for l in self.layers}
        self.weakest = {l.name: TopK(l.filters, pool_size(k)) for l in self.layers}
        self.worst = {l.name: TopK(l.filters, k) for l in self.layers} if negative else None

    def measure(self, group: list[tuple[int, np.ndarray]]) -> None:
        """One forward pass over images of one shape; every layer's top K updated."""
        maps = self.forward(np.stack([img for _, img in group]).astype(np.float32))
        maps = maps if isinstance(maps, (list, tuple)) else [maps]  # one output: a tensor alone
        for lyr, m in zip(self.layers, maps):
            width = int(m.shape[2])
            m = np.asarray(m).reshape(len(group), -1, lyr.filters)
            for (index, _), flat in zip(group, m):
                at = flat.argmax(0)
                peak, spot = flat.max(0), np.stack([at // width, at % width], 1)
                self.best[lyr.name].add(index, peak, spot)
                self.weakest[lyr.name].add(index, -peak, spot)  # the lowest peaks: the top of their negation
                if self.worst is not None:  # the most negative: the top k of the negated map
                    at = flat.argmin(0)
                    self.worst[lyr.name].add(index, -flat.min(0), np.stack([at // width, at % width], 1))

    def scan(self, setting: str, side: int, log=sys.stderr) -> Scan:
        """Every image of ``setting`` once, in sorted path order, batched by shape."""
        found, refused = folder.sources(setting)
        skipped, why, t0, said = [], {}, time.perf_counter(), 0.0
        group: list[tuple[int, np.ndarray]] = []
        for done, (i, img, error) in enumerate(decoded(found, side, 2 * self.batch, self.bands), 1):
            if img is None:
                skipped.append(found[i].name)
                why[found[i].name] = error
            else:
                if group and (img.shape != group[0][1].shape or len(group) == self.batch):
                    self.measure(group)
                    group = []
                group.append((i, img))
            now = time.perf_counter() - t0
            if now - said > 10 or done == len(found):
                said, rate = now, done / max(now, 1e-9)
                print(f"examples: {done}/{len(found)} images, {rate:.1f} images/s, about "
                      f"{duration((len(found) - done) / max(rate, 1e-9))} left", file=log, flush=True)
        if group:
            self.measure(group)
        if skipped:
            print(f"examples: skipped {len(skipped)} unreadable or truncated files "
                  f"(first: {', '.join(skipped[:3])})", file=log, flush=True)
        return Scan(found, self.best, self.weakest, self.worst, skipped, why, refused, time.perf_counter() - t0,
                    self.bands)


def decoded(found, side: int, ahead_most: int, bands: Bands):
    """(index, image or None if unreadable, why not) in order, decoded beside the forward passes;
    at most ``ahead_most`` images ahead, so memory stays bounded by the batch (Executor.map would
    decode the whole folder)."""
    def read(i: int):
        try:
            return i, folder.load(found[i], side, bands)[0], ""
        except (OSError, ValueError, SyntaxError) as error:
            return i, None, folder.unreadable(error)

    ahead = deque()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i in range(len(found)):
            ahead.append(pool.submit(read, i))
            if len(ahead) > ahead_most:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def box(lyr: ConvLayer, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in the resized image: the receptive field of the unit at
    (y, x) of ``lyr``'s map, clipped to the image: centred where the network's strides and
    padding put it (``ConvLayer.centre``)."""
    half = lyr.receptive_field // 2
    cy, cx = lyr.centre(y), lyr.centre(x)
    return (max(0, cx - half), max(0, cy - half), min(width, cx + half + 1), min(height, cy + half + 1))


def tile(crop: np.ndarray) -> np.ndarray:
    """A crop fitted into a TILE x TILE square (aspect kept, grey around a clipped crop)."""
    img = Image.fromarray(crop)
    scale = TILE / max(img.size)
    img = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))), Image.LANCZOS)
    out = Image.new("RGB", (TILE, TILE), (GREY, GREY, GREY))
    out.paste(img, ((TILE - img.size[0]) // 2, (TILE - img.size[1]) // 2))
    return np.asarray(out)


def mosaic(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Tiles row by row, ``columns`` to a row; a filter with no example gets one grey tile."""
    rows = max(1, -(-len(tiles) // columns))
    sheet = np.full((rows * TILE, columns * TILE, 3), GREY, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = t
    return sheet


@dataclass
class Crops:
    """One layer's crops: ``tiles[kind, filter, rank]`` of the shown ranks and the box each
    kept position came from, in the original image's pixels (``boxes``, every rank). ``kind``
    is "examples" (the strongest), "weakest", or "negative"."""

    tiles: dict
    boxes: dict


def crops(found: Scan, lyr: ConvLayer, filters: list[int], side: int, shown: int) -> Crops:
    """The crops of ``filters``' kept positions; each image opened once for the whole layer.
    Only the ``shown`` strongest (and most negative) get a tile; the pool gets its boxes."""
    wanted: dict[int, list] = {}  # image index -> the crops it gives
    for kind, top in kinds(found, lyr.name):
        for f in filters:
            for rank, (index, (y, x)) in enumerate(zip(top.image[f], top.where[f])):
                if index >= 0:
                    wanted.setdefault(int(index), []).append((kind, f, rank, int(y), int(x)))
    out = Crops({}, {})
    for index, todo in sorted(wanted.items()):
        image, scale = folder.load(found.sources[index], side, found.bands)
        for kind, f, rank, y, x in todo:
            left, top_, right, bottom = box(lyr, y, x, *image.shape[:2])
            if kind != "weakest" and rank < shown:
                out.tiles[kind, f, rank] = tile(as_rgb(image[top_:bottom, left:right]))
            out.boxes[kind, f, rank] = [round(left / scale[0]), round(top_ / scale[1]),
                                        round(right / scale[0]), round(bottom / scale[1])]
    return out


def kinds(found: Scan, layer: str) -> list[tuple[str, TopK]]:
    return ([("examples", found.best[layer]), ("weakest", found.weakest[layer])]
            + ([("negative", found.worst[layer])] if found.worst else []))


def listed(found: Scan, layer: str, f: int, k: int, got: Crops) -> dict[str, list[Example]]:
    """A filter's lists as the record holds them, each strongest (or weakest) first:
    "examples" and "negative" the ``k`` shown, "more" the rest of the strong pool, "weakest"
    the weak pool."""
    lists = {}
    for kind, top in kinds(found, layer):
        sign = 1.0 if kind == "examples" else -1.0
        lists[kind] = [Example(found.sources[int(top.image[f, r])].name, top.where[f, r].tolist(),
                               got.boxes[kind, f, r], round(sign * float(top.value[f, r]), 4))
                       for r in range(top.value.shape[1]) if (kind, f, r) in got.boxes]
    lists["more"] = lists["examples"][k:]
    lists["examples"] = lists["examples"][:k]
    if "negative" in lists:
        lists["negative"] = lists["negative"][:k]
    return lists
