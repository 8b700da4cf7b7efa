"""A filter's trust scores measured with the network (the arithmetic is ``measure/trust.py``).

Every image is compared as what one unit of the layer sees: its receptive field. A natural
image gives the window around the unit's strongest position, at the scale the examples were
found at, with the ImageNet mean colour (zero to the network) where the window leaves the
image, as the unit saw it there; a picture gives its centre window, or its centre square where
the field is larger. MIS compares those windows as 64 px squares through LPIPS; the path runs
them through the convs up to the layer at their own scale.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from PIL import Image

from ..images import folder, photos
from ..model import network
from ..model.vgg16 import IMAGENET_MEAN_RGB, LAYERS, ConvLayer, preprocess
from ..optvis import backend
from ..output.record import Example, FilterExamples, PathPoint
from . import trust
from .examples import box
from .lpips import SIDE, Similarity

MEAN = tuple(int(round(v)) for v in IMAGENET_MEAN_RGB)
# Random photo patches a layer's path is measured against: with 32, a layer's mean path moved
# by up to 0.1 between two draws; with 128, by 0.01.
REFERENCE = 128


def window(image: np.ndarray, lyr: ConvLayer, y: int, x: int) -> np.ndarray:
    """The receptive field of ``lyr``'s unit (y, x), mean colour outside the image."""
    half = lyr.receptive_field // 2
    left, top, right, bottom = box(lyr, y, x, *image.shape[:2])
    cy, cx = y * lyr.stride + (lyr.stride - 1) // 2, x * lyr.stride + (lyr.stride - 1) // 2
    out = np.empty((2 * half + 1, 2 * half + 1, 3), np.uint8)
    out[:] = MEAN
    oy, ox = top - (cy - half), left - (cx - half)
    out[oy:oy + bottom - top, ox:ox + right - left] = image[top:bottom, left:right]
    return out


def picture_window(picture: np.ndarray, lyr: ConvLayer) -> np.ndarray:
    """A picture's centre receptive field, or its centre square where the field is larger."""
    h, w = picture.shape[:2]
    side = min(2 * (lyr.receptive_field // 2) + 1, h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return picture[top:top + side, left:left + side]


def square(view: np.ndarray) -> np.ndarray:
    """A window as LPIPS compares it: SIDE x SIDE, antialiased when shrinking."""
    return np.asarray(Image.fromarray(view).resize((SIDE, SIDE), Image.LANCZOS if view.shape[0] > SIDE else Image.BICUBIC))


def pool(found: FilterExamples, images: int) -> tuple[list[Example], list[Example]]:
    """The tasks' pools: as many strong and weak images as the folder allows without overlap
    (at most 2K a side), strongest and weakest first."""
    n = min(len(found.strong), len(found.weakest), images // 2)
    return found.strong[:n], found.weakest[:n]


class Loader:
    """Windows of the examples' images, each image opened once per layer (past 256 held, the
    earliest opened is let go)."""

    def __init__(self, source: str, side: int, lyr: ConvLayer):
        self.source, self.side, self.lyr = source, side, lyr
        self.images: dict[str, np.ndarray] = {}

    def image(self, name: str) -> np.ndarray:
        if name not in self.images:
            if len(self.images) >= 256:
                self.images.pop(next(iter(self.images)))
            path = None if photos.is_skimage(name) else Path(self.source, name)
            self.images[name] = folder.load(folder.Source(name, path), self.side)[0]
        return self.images[name]

    def windows(self, examples: list[Example]) -> list[np.ndarray]:
        return [window(self.image(e.image), self.lyr, *e.position) for e in examples]


class Scorer:
    """MIS and path of pictures of one layer's filters: the similarity, and the convs up to the
    layer with each one's real output (after its ReLU) averaged over space, measured against
    random photo patches (:meth:`calibrate`, once a layer)."""

    def __init__(self, base, lyr: ConvLayer, preprocess_mode: str, similarity: Similarity):
        self.lyr, self.similarity = lyr, similarity
        self.reference: tuple[list[np.ndarray], list[np.ndarray]] | None = None  # calibrate() sets it
        convs = network.all_convs_model(base)
        upto = keras.Model(convs.input, convs.outputs[:lyr.index + 1])

        def means(x):
            maps = upto(preprocess(x, preprocess_mode))
            maps = maps if isinstance(maps, (list, tuple)) else [maps]  # one output: a tensor alone
            return [keras.ops.mean(keras.ops.relu(m), axis=(1, 2)) for m in maps]
        self.path_forward = backend.compile(means)

    def channels(self, views: list[np.ndarray]) -> list[np.ndarray]:
        """Per layer up to this one, (len(views), channels): the channel means each view causes.
        Views of one shape go through together."""
        out = [np.zeros((len(views), lyr.filters), np.float32) for lyr in LAYERS[:self.lyr.index + 1]]
        shapes: dict[tuple, list[int]] = {}
        for i, v in enumerate(views):
            shapes.setdefault(v.shape, []).append(i)
        for idx in shapes.values():
            for start in range(0, len(idx), 16):
                chunk = idx[start:start + 16]
                got = self.path_forward(np.stack([views[i] for i in chunk]).astype(np.float32))
                for layer_out, g in zip(out, got):
                    layer_out[chunk] = np.asarray(g)
        return out

    def calibrate(self, loader: Loader, names: list[str], seed) -> None:
        """The path's zero and unit per channel: what :data:`REFERENCE` random patches of the
        examples' photos cause (a random image and a random position each, from ``seed``)."""
        rng = np.random.default_rng(seed)
        views = []
        for i in rng.integers(0, len(names), REFERENCE):
            image = loader.image(names[int(i)])
            h, w = (-(-n // self.lyr.stride) for n in image.shape[:2])  # the layer's map
            views.append(window(image, self.lyr, int(rng.integers(0, h)), int(rng.integers(0, w))))
        got = self.channels(views)
        self.reference = ([c.mean(axis=0) for c in got], [c.std(axis=0) + 1e-6 for c in got])

    def standardised(self, views: list[np.ndarray]) -> list[np.ndarray]:
        """Per layer, (len(views), channels) in units of the photos' spread about their mean."""
        mean, spread = self.reference
        return [(c - m) / s for c, m, s in zip(self.channels(views), mean, spread)]

    def score(self, strong: list[np.ndarray], weak: list[np.ndarray], pictures: list[np.ndarray],
              negatives: list[np.ndarray], k: int, seed) -> dict:
        """Natural and synthetic MIS and the path of ``pictures`` (the filter's, or any images
        scored as its explanation), with ``negatives`` (its negative pictures) or, without them,
        the natural negatives (``mixed``)."""
        ns, nw = len(strong), len(weak)
        views = [picture_window(p, self.lyr) for p in pictures]
        neg_views = [picture_window(p, self.lyr) for p in negatives]
        tiles = np.stack([square(v) for v in strong + weak + views + neg_views])
        emb = self.similarity.embed(tiles)
        d = self.similarity.distances(emb[:ns + nw], emb)
        plan = trust.tasks(ns, nw, k)
        out: dict = {"pool": [ns, nw], "references": len(plan[0].positives) if plan else 0, "tasks": len(plan)}
        if not plan:
            return {**out, "natural": None, "synthetic": None, "synthetic_kind": "mixed",
                    "path": None, "path_baseline": None, "path_curve": []}
        # A pool of one a side leaves no natural reference beside the queries.
        refs = bool(plan[0].positives)
        queries_strong, queries_weak = d[:, :ns], d[:, ns:ns + nw]
        natural = trust.evidence(queries_strong, queries_weak, plan, True, True, ns) if refs else None
        pics = d[:, ns + nw:ns + nw + len(views)]
        if neg_views:
            synthetic = trust.evidence(pics, d[:, ns + nw + len(views):], plan, False, False, ns)
        else:
            synthetic = trust.evidence(pics, queries_weak, plan, False, True, ns) if refs else None
        out.update(natural=None if natural is None else trust.score(natural, seed),
                   synthetic=None if synthetic is None else trust.score(synthetic, seed),
                   synthetic_kind="synthetic" if neg_views else "mixed")
        both = self.standardised(strong[:k] + views[:1])  # the top examples, then the picture
        picture, baseline = trust.path([c[-1] for c in both], [c[:-1] for c in both])
        out.update(path=round(float(np.mean(picture)), 4), path_baseline=round(float(np.mean(baseline)), 4),
                   path_curve=[PathPoint(lyr.name, round(p, 4), round(b, 4))
                               for lyr, p, b in zip(LAYERS, picture, baseline)])
        return out

