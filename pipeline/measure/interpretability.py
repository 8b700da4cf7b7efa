"""A filter's trust scores measured with the network (the arithmetic is ``measure/trust.py``).

Every image is compared as what one unit of the layer sees: its receptive field. A natural
image gives the window around the unit's strongest position, at the scale the examples were
found at, with the ImageNet mean colour (zero to the network) where the window leaves the
image, as the unit saw it there; a picture gives its centre window, or its centre square where
the field is larger. MIS compares those windows as 64 px squares through LPIPS; the path runs
them through the convs up to the layer at their own scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from ..images import folder, photos
from ..images.bands import Bands, as_rgb
from ..model import network
from ..model.description import ConvLayer, Network
from ..model.preprocess import neutral, preprocess
from ..optvis import backend
from ..output.record import Example, FilterExamples, Null, PathPoint
from . import trust
from .examples import box
from .lpips import SIDE, Similarity

# Random photo patches a layer's path is measured against: with 32, a layer's mean path moved
# by up to 0.1 between two draws; with 128, by 0.01.
REFERENCE = 128


def window(image: np.ndarray, lyr: ConvLayer, y: int, x: int) -> np.ndarray:
    """The receptive field of ``lyr``'s unit (y, x), mean colour outside the image. A field
    more than twice the image's side (a deep layer of ResNet, DenseNet, Inception: 500 to 2,000
    px) is cut to that (plus the centres' offset): from any unit's centre it still holds all of
    the image, and the rest is mean colour the network would spend its time and memory on. One
    side per image size, so windows of one image size still go through together."""
    half = min(lyr.receptive_field // 2, max(image.shape[:2]) + math.ceil(abs(lyr.offset)) + 1)
    left, top, right, bottom = box(lyr, y, x, *image.shape[:2])
    cy, cx = lyr.centre(y), lyr.centre(x)
    out = np.empty((2 * half + 1, 2 * half + 1, image.shape[-1]), np.uint8)
    out[:] = np.round(neutral(image.shape[-1]))
    oy, ox = top - (cy - half), left - (cx - half)
    out[oy:oy + bottom - top, ox:ox + right - left] = image[top:bottom, left:right]
    return out


def picture_window(picture: np.ndarray, lyr: ConvLayer) -> np.ndarray:
    """A picture's centre receptive field, or its centre square where the field is larger."""
    return picture_windows(picture, lyr, 1)[0]


def picture_windows(picture: np.ndarray, lyr: ConvLayer, across: int = 3) -> list[np.ndarray]:
    """What units of the layer see of a picture: ``across`` x ``across`` receptive fields spread
    evenly over it (corners and centre with 3), or its centre square where the field is as large
    as the picture. One window is one arbitrary tile of the picture's pattern; nine let the
    comparison see the picture rather than where its centre happens to fall (measured at
    block3_conv2, docs/trust.md: the specific score passed the specificity property at 79% and
    81% of the filters of two draws with nine windows, 75% and 56% with one)."""
    h, w = picture.shape[:2]
    side = min(2 * (lyr.receptive_field // 2) + 1, h, w)
    if side >= min(h, w) or across == 1:
        top, left = (h - side) // 2, (w - side) // 2
        return [picture[top:top + side, left:left + side]]
    ys, xs = (np.linspace(0, n - side, across).round().astype(int) for n in (h, w))
    return [picture[y:y + side, x:x + side] for y in ys for x in xs]


def square(view: np.ndarray) -> np.ndarray:
    """A window as LPIPS compares it: SIDE x SIDE, antialiased when shrinking."""
    return np.asarray(Image.fromarray(view).resize((SIDE, SIDE), Image.LANCZOS if view.shape[0] > SIDE else Image.BICUBIC))


def pool(found: FilterExamples, images: int) -> tuple[list[Example], list[Example]]:
    """The tasks' pools: as many strong and weak images as the folder allows without overlap
    (at most 2K a side), strongest and weakest first."""
    n = min(len(found.strong), len(found.weakest), images // 2)
    return found.strong[:n], found.weakest[:n]


@dataclass(frozen=True)
class Pool:
    """The photos a filter's pictures are judged on: the receptive-field windows of its strong
    and weak examples (strongest and weakest first, :func:`pool`), and ``shown``, how many
    examples its page shows (a task's references)."""

    strong: list[np.ndarray]
    weak: list[np.ndarray]
    shown: int


@dataclass(frozen=True)
class Layer:
    """What a filter's picture is scored against in its layer, embedded once per layer: the
    pictures of a set of its filters (``indices``), grey noise, and the filter's own negative
    pictures."""

    indices: list[int]        # the filters whose pictures the specific scores are measured against
    pictures: np.ndarray      # (windows, len(indices), d) their embeddings (Scorer.embed)
    noise: np.ndarray         # (windows, 1, d) grey noise's
    negatives: np.ndarray     # (windows, n, d) the filter's negative pictures' (none without ``negative``)
    pictures_sq: np.ndarray | None = None  # the pictures' squared norms: filled in, kept by replace()

    def __post_init__(self):
        # Once a layer: every filter's specific score needs them, and working them out again
        # per filter was a third of the trust job (at block 1, a 0.6 GB temporary a filter).
        # The same expression on the same array: the same numbers.
        if self.pictures_sq is None:
            flat = self.pictures.reshape(-1, self.pictures.shape[-1])
            object.__setattr__(self, "pictures_sq", (flat * flat).sum(1))


def grey_noise(size: int, bands: int = 3) -> np.ndarray:
    """Chollet's starting image, grey with noise (sd 20): a picture of nothing in particular."""
    return np.clip(128 + 20 * np.random.default_rng(0).standard_normal((size, size, bands)), 0, 255).astype(np.uint8)


def comparison_set(candidates: list[int], seed) -> list[int]:
    """The filters whose pictures every specific score of a layer is measured against: every
    rendered one, or :data:`trust.OTHERS` + 1 drawn from the seed, so that each filter has
    :data:`trust.OTHERS` others beside itself. One set per layer: its pictures are embedded
    once (each a few hundred MB at 9 windows), not once per filter."""
    if len(candidates) <= trust.OTHERS + 1:
        return sorted(candidates)
    return sorted(int(g) for g in np.random.default_rng(seed).choice(candidates, trust.OTHERS + 1, replace=False))


class Loader:
    """Windows of the examples' images, each image opened once per layer (past 256 held, the
    earliest opened is let go). An image that cannot be read is skipped, named once through
    ``log``, and never tried again."""

    def __init__(self, source: str, side: int, lyr: ConvLayer, log=lambda line: None, bands: Bands = Bands()):
        self.source, self.side, self.lyr, self.log, self.bands = source, side, lyr, log, bands
        self.images: dict[str, np.ndarray] = {}
        self.bad: set[str] = set()

    def image(self, name: str) -> np.ndarray | None:
        """The image resized as the examples job saw it; None where it cannot be read."""
        if name in self.bad:
            return None
        if name not in self.images:
            if len(self.images) >= 256:
                self.images.pop(next(iter(self.images)))
            path = None if photos.is_skimage(name) else Path(self.source, name)
            try:
                self.images[name] = folder.load(folder.Source(name, path), self.side, self.bands)[0]
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
                self.bad.add(name)
                self.log(f"trust: skipping {name}: it cannot be read as an image ({error})")
                return None
        return self.images[name]

    def pool(self, found: FilterExamples, images: int) -> Pool:
        """A filter's :class:`Pool` from its examples and the images its examples job read."""
        strong, weak = pool(found, images)
        return Pool(self.windows(strong), self.windows(weak), len(found.examples))

    def windows(self, examples: list[Example]) -> list[np.ndarray]:
        """The receptive-field windows of ``examples`` whose images can be read."""
        views = []
        for e in examples:
            image = self.image(e.image)
            if image is not None:
                views.append(window(image, self.lyr, *e.position))
        return views


class Scorer:
    """MIS and path of pictures of one layer's filters: the similarity, and the convs up to the
    layer with each one's real output (after its ReLU) averaged over space, measured against
    random photo patches (:meth:`calibrate`, once a layer)."""

    def __init__(self, base, net: Network, layer: str, preprocess_mode: str, similarity: Similarity,
                 bands: Bands = Bands()):
        self.lyr, self.similarity, self.bands = net.layer(layer), similarity, bands
        self.reference: tuple[list[np.ndarray], list[np.ndarray]] | None = None  # calibrate() sets it
        self.path_layers = net.layers[:self.lyr.index + 1]  # the path: every conv up to this one
        upto = network.all_convs_model(base, [lyr.name for lyr in self.path_layers])

        def means(x):
            maps = upto(preprocess(x, preprocess_mode))
            maps = maps if isinstance(maps, (list, tuple)) else [maps]  # one output: a tensor alone
            return [keras.ops.mean(keras.ops.relu(m), axis=(1, 2)) for m in maps]
        self.path_forward = backend.compile(means)

    def channels(self, views: list[np.ndarray]) -> list[np.ndarray]:
        """Per layer up to this one, (len(views), channels): the channel means each view causes.
        Views of one shape go through together."""
        out = [np.zeros((len(views), lyr.filters), np.float32) for lyr in self.path_layers]
        shapes: dict[tuple, list[int]] = {}
        for i, v in enumerate(views):
            shapes.setdefault(v.shape, []).append(i)
        for shape, idx in shapes.items():
            per = max(1, min(16, 16 * 256 * 256 // (shape[0] * shape[1])))  # 16 up to 256 px, fewer above
            for start in range(0, len(idx), per):
                chunk = idx[start:start + per]
                got = self.path_forward(np.stack([views[i] for i in chunk]).astype(np.float32))
                for layer_out, g in zip(out, got):
                    layer_out[chunk] = np.asarray(g)
        return out

    def calibrate(self, loader: Loader, names: list[str], seed) -> None:
        """The path's zero and unit per channel: what :data:`REFERENCE` random patches of the
        examples' photos cause (a random image and a random position each, from ``seed``; an
        image that cannot be read is skipped, and another drawn)."""
        rng = np.random.default_rng(seed)
        views, tries = [], 0
        while len(views) < REFERENCE and tries < 20 * REFERENCE:
            tries += 1
            image = loader.image(names[int(rng.integers(0, len(names)))])
            if image is None:
                continue
            h, w = (-(-n // self.lyr.stride) for n in image.shape[:2])  # the layer's map
            views.append(window(image, self.lyr, int(rng.integers(0, h)), int(rng.integers(0, w))))
        if not views:
            raise ValueError("none of the examples' images can be read")
        got = self.channels(views)
        self.reference = ([c.mean(axis=0) for c in got], [c.std(axis=0) + 1e-6 for c in got])

    def standardised(self, views: list[np.ndarray]) -> list[np.ndarray]:
        """Per layer, (len(views), channels) in units of the photos' spread about their mean."""
        mean, spread = self.reference
        return [(c - m) / s for c, m, s in zip(self.channels(views), mean, spread)]

    def embed(self, pictures: list[np.ndarray]) -> np.ndarray:
        """(windows, n, d): each picture's windows (:func:`picture_windows`), as the similarity
        compares them, embedded; contiguous, so that :meth:`distances` takes every window of
        every picture in one matrix product."""
        if not pictures:
            return np.zeros((1, 0, 1), np.float32)
        views = [picture_windows(p, self.lyr) for p in pictures]
        flat = self.similarity.embed(np.stack([square(as_rgb(v)) for vs in views for v in vs]))
        return np.ascontiguousarray(flat.reshape(len(pictures), len(views[0]), -1).transpose(1, 0, 2))

    def distances(self, queries: np.ndarray, pictures: np.ndarray, squared: np.ndarray | None = None) -> np.ndarray:
        """(queries, pictures): each query's distance to each picture, the mean over its windows
        (``squared``: the pictures' squared norms, where already known)."""
        windows, n = pictures.shape[:2]
        if not n:
            return np.zeros((len(queries), 0))
        flat = self.similarity.distances(queries, pictures.reshape(windows * n, -1), squared)  # one product for all
        return flat.reshape(len(queries), windows, n).mean(axis=1)

    def score(self, pool: Pool, pictures: list[np.ndarray], layer: Layer, exclude: set[int], seed) -> dict:
        """Every trust score of ``pictures`` (the filter's, or any images scored as its
        explanation) on its examples' ``pool``: the literature's natural and synthetic MIS, the specific
        score against the layer's other pictures (``layer``'s, but those of ``exclude``: the
        filter itself, and any whose picture is the one scored) with its null, and the path."""
        strong, weak, k = pool.strong, pool.weak, pool.shown
        ns, nw = len(strong), len(weak)
        out: dict = {"pool": [ns, nw], "references": 0, "tasks": 0, "synthetic_kind": "mixed", "natural": None,
                     "synthetic": None, "specific": None, "null": None, "path": None, "path_baseline": None,
                     "path_curve": []}
        if not ns or not nw:
            return out
        queries = self.similarity.embed(np.stack([square(as_rgb(v)) for v in strong + weak]))
        own = self.distances(queries, self.embed(pictures))
        out.update(self.literature(queries, own, self.distances(queries, layer.negatives), ns, k, seed))
        out.update(self.specificity(queries, own, layer, exclude, ns, seed))
        both = self.standardised(strong[:k] + [picture_window(pictures[0], self.lyr)])  # top examples, then the picture
        picture, baseline = trust.path([c[-1] for c in both], [c[:-1] for c in both])
        out.update(path=round(float(np.mean(picture)), 4), path_baseline=round(float(np.mean(baseline)), 4),
                   path_curve=[PathPoint(lyr.name, round(p, 4), round(b, 4))
                               for lyr, p, b in zip(self.path_layers, picture, baseline)])
        return out

    def literature(self, queries: np.ndarray, own: np.ndarray, negatives: np.ndarray, ns: int, k: int,
                   seed) -> dict:
        """The MIS of Zimmermann et al.: natural (the dataset examples as references) and
        synthetic (the pictures, with the negative pictures or else the natural negatives:
        ``mixed``), over every task of the pool. ``own`` and ``negatives`` are the queries'
        distances to the pictures and to the negative pictures."""
        d = self.similarity.distances(queries, queries)
        plan = trust.tasks(ns, len(queries) - ns, k)
        out = {"references": len(plan[0].positives), "tasks": len(plan),
               "synthetic_kind": "synthetic" if negatives.shape[1] else "mixed", "natural": None, "synthetic": None}
        if negatives.shape[1]:  # both references synthetic: no natural one is needed
            synthetic = trust.evidence(own, negatives, plan, False, False, ns)
            out["synthetic"] = trust.score(trust.as_matrix(synthetic, ns), seed)
        if not plan[0].positives:  # a pool of one a side leaves no natural reference beside the queries
            return out
        strong_refs, weak_refs = d[:, :ns], d[:, ns:]
        out["natural"] = trust.score(trust.as_matrix(trust.evidence(strong_refs, weak_refs, plan, True, True, ns), ns), seed)
        if not negatives.shape[1]:
            synthetic = trust.evidence(own, weak_refs, plan, False, True, ns)
            out["synthetic"] = trust.score(trust.as_matrix(synthetic, ns), seed)
        return out

    def specificity(self, queries: np.ndarray, own: np.ndarray, layer: Layer, exclude: set[int], ns: int,
                    seed) -> dict:
        """The specific score (``trust.specific``) and what it is measured against: the layer's
        other pictures scored the same way (the null) and grey noise."""
        keep = [i for i, g in enumerate(layer.indices) if g not in exclude][:trust.OTHERS]
        if len(keep) < 2:
            return {"specific": None, "null": None}
        others = self.distances(queries, layer.pictures, layer.pictures_sq)[:, keep]
        nulls = trust.null(others, ns)
        noise = trust.right(trust.contrast(self.distances(queries, layer.noise)[:, 0], others, ns))
        return {"specific": trust.specific(own.mean(axis=1), others, ns, seed),
                "null": Null([layer.indices[i] for i in keep], round(float(np.median(nulls)), 4),
                             round(float(np.percentile(nulls, 90)), 4), round(float(noise.mean()), 4))}
