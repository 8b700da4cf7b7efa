"""The compiled forward passes the scorecard and the twins measure pictures with."""

from __future__ import annotations

import time

import numpy as np
from keras import ops

from ..images import photos
from ..model import network
from ..model.preprocess import preprocess
from ..optvis import backend, objectives, transform
from ..output.record import Scorecard
from . import scorecard
from . import moves


def render_loop_copies(images: np.ndarray, draws: int = scorecard.DRAWS, seed: int = 0) -> np.ndarray:
    """The scorecard's move sizes resampled as the render loop resamples (bilinear sampling
    without a low-pass, on the ImageNet mean colour): what the scorecard measured before, and
    the baseline bench/robustness.py compares a photo editor's moves with."""
    m = moves.SCORECARD
    loop = transform.RandomMoves(images.shape[1], 0, float(m.jitter), tuple(m.scale), m.rotate, "mean")
    rows = loop.rows(np.random.default_rng(seed), draws)
    batch = np.repeat(np.asarray(images, np.float32), draws, axis=0)
    return np.asarray(transform.apply(batch, np.tile(rows, (len(images), 1)), 0, canvas="mean"))


class Probe:
    """Measures a layer's filters on given images with one cut model (post-ReLU means)."""

    def __init__(self, cut_model, preprocess_mode: str):
        self.model, self.mode = cut_model, preprocess_mode

        def means(images):
            acts = ops.relu(self.model(preprocess(images, self.mode)))
            return ops.mean(acts, axis=(1, 2))  # (n, channels)
        self._means = backend.compile(means)

        # A scorecard needs each picture's own filter only: the last conv computes just the
        # filters asked for (a moved copy shares its picture's), not the whole layer, which is
        # most of the work at the first layers. A depthwise, separable or grouped conv (its
        # kernel does not hold one slice per filter) is computed whole.
        last = self.model.layers[-1]
        if objectives.ConvMeanHead.plain(last):
            below = network.below_last(self.model)

            def asked_means(images, asked):  # (n, asked)
                x = ops.cast(below(preprocess(images, self.mode)), last.kernel.dtype)  # bfloat16 below, if mixed
                out = ops.conv(x, ops.take(last.kernel, asked, axis=3), last.strides, last.padding,
                               dilation_rate=last.dilation_rate) + ops.take(last.bias, asked)
                return ops.mean(ops.relu(out), axis=(1, 2))
        else:
            def asked_means(images, asked):
                return ops.take(means(images), asked, axis=1)

        def own(images, asked, which):
            return ops.take_along_axis(asked_means(images, asked), which[:, None], axis=1)[:, 0]  # (n,)
        self._own = backend.compile(own)

    def activations(self, images: np.ndarray, batch: int = 32) -> np.ndarray:
        """(n, channels): every filter's mean post-ReLU activation on each image, ``batch`` images
        per forward pass so memory stays bounded however many there are."""
        images = np.asarray(images, np.float32)
        return np.concatenate([np.asarray(self._means(images[i:i + batch]))
                               for i in range(0, len(images), batch)])

    def own(self, images: np.ndarray, filters: list[int], batch: int = 32) -> np.ndarray:
        """(n,): image i's mean post-ReLU activation of filter ``filters[i]`` alone."""
        images, filters = np.asarray(images, np.float32), np.asarray(filters, np.int32)
        out = []
        for i in range(0, len(images), batch):
            asked, which = np.unique(filters[i:i + batch], return_inverse=True)
            out.append(np.asarray(self._own(images[i:i + batch], asked.astype(np.int32),
                                            which.astype(np.int32))))
        return np.concatenate(out)

    def robustness(self, image: np.ndarray, filter_index: int, draws: int = scorecard.DRAWS,
                   seed: int = 0, copies=moves.moved_copies) -> float:
        """The scorecard's robustness of one picture; ``copies`` makes the moved copies."""
        own = self.activations(image[None])[0, filter_index]
        if own <= 0:
            return float("nan")
        moved = self.activations(copies(image[None], draws, seed))
        return float(moved[:, filter_index].mean() / own)

    def photos(self, shots: np.ndarray, draws: int = scorecard.DRAWS) -> scorecard.Photos:
        """The scorecard's references, once per job: every filter on each photo and on its
        moved copies (the same moves as the pictures'), and each photo's spectral share."""
        moved = self.activations(moves.moved_copies(shots, draws)).reshape(len(shots), draws, -1)
        return scorecard.Photos.measured(photos.PHOTOS, self.activations(shots), moved,
                                         [scorecard.spectral_share(s) for s in shots])

    def scorecards(self, images: np.ndarray, filters: list[int], refs: scorecard.Photos,
                   draws: int = scorecard.DRAWS) -> list[Scorecard | None]:
        """Each picture's scorecard for its own filter, batched: two forward passes in all,
        the last conv computing only the filters asked for.

        None where the filter does not fire on its picture: nothing there to trust or not.
        """
        t0 = time.perf_counter()
        own = self.own(images, filters)
        moved = self.own(moves.moved_copies(images, draws), np.repeat(filters, draws)).reshape(len(images), draws)
        shares = [scorecard.spectral_share(image) for image in images]
        each = (time.perf_counter() - t0) / len(images)
        return [scorecard.card(own[i], moved[i], refs, f, shares[i], each) if own[i] > 0 else None
                for i, f in enumerate(filters)]

    def strength(self, image: np.ndarray, filter_index: int, photo_acts: np.ndarray) -> float:
        own = self.activations(image[None])[0, filter_index]
        best = photo_acts[:, filter_index].max()
        return float(own / best) if best > 0 else float("inf")
