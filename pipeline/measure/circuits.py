"""How the filters connect, read from the weights alone.

VGG16 is a plain chain of 3x3 convolutions: filter ``g`` of one conv layer sees filter ``f`` of
the conv layer before it (across a max-pool where a block ends) only through the 3x3 slice
``kernel[:, :, f, g]``. The slice's L2 norm says how strongly ``f`` drives ``g``; the sign of its
sum says whether a uniform response of ``f`` excites or inhibits ``g``. That ranks every
filter's inputs and outputs without rendering anything.

``block1_conv1`` reads the RGB pixels, so its inputs are a 3x3x3 kernel shown as a picture, and
whether it can fire at all is exactly decidable (:func:`can_fire`): it is linear in the pixels.
"""

from __future__ import annotations

import numpy as np

from ..model.vgg16 import IMAGENET_MEAN, IMAGENET_STD, LAYERS, CAFFE_MEAN_BGR, ConvLayer
from ..output.record import Link

TOP = 8  # inputs and outputs listed per filter


def kernels(base) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{layer: (kernel (3, 3, in, out), bias (out,))} from a loaded conv base."""
    return {l.name: tuple(np.asarray(w) for w in base.get_layer(l.name).get_weights()) for l in LAYERS}


def _ranked(slices: np.ndarray, layer: str, top: int) -> list[Link]:
    """slices (3, 3, n): one 3x3 slice per neighbour filter -> the ``top`` strongest links."""
    norms = np.sqrt((slices.astype(np.float64) ** 2).sum(axis=(0, 1)))
    sums = slices.sum(axis=(0, 1))
    # Stable sort on the negated norm: ties keep index order, so the list is reproducible.
    order = np.argsort(-norms, kind="stable")[:top]
    return [Link(layer, int(i), round(float(norms[i]), 6), "excites" if sums[i] >= 0 else "inhibits")
            for i in order]


def inputs(weights: dict, layer: ConvLayer, f: int, top: int = TOP) -> list[Link]:
    """The filters of the previous conv layer that drive ``f`` most; none for ``block1_conv1``."""
    if layer.index == 0:
        return []
    return _ranked(weights[layer.name][0][:, :, :, f], LAYERS[layer.index - 1].name, top)


def outputs(weights: dict, layer: ConvLayer, f: int, top: int = TOP) -> list[Link]:
    """The filters of the next conv layer that ``f`` drives most; none for the last layer."""
    if layer.index == len(LAYERS) - 1:
        return []
    nxt = LAYERS[layer.index + 1]
    return _ranked(weights[nxt.name][0][:, :, f, :], nxt.name, top)


def rgb_kernel(weights: dict, f: int, preprocess_mode: str) -> list:
    """``block1_conv1`` filter ``f``'s 3x3x3 kernel as 3x3 RGB colours (mid-grey is zero, each
    channel scaled by the kernel's largest magnitude), for the filter page to draw enlarged."""
    k = weights[LAYERS[0].name][0][:, :, :, f]
    if preprocess_mode == "caffe":
        k = k[:, :, ::-1]  # caffe weights read BGR
    k = k / (np.abs(k).max() or 1.0)
    return np.clip(np.round(127.5 + 127.5 * k), 0, 255).astype(int).tolist()


def can_fire(weights: dict, f: int, preprocess_mode: str) -> bool:
    """Whether any image with pixels in [0, 255] makes ``block1_conv1`` filter ``f`` positive.

    The output at a pixel is ``bias + sum(w * x)`` over a 3x3x3 window of preprocessed pixels,
    each free within its channel's range, so its maximum puts every pixel at whichever end of
    its range its weight favours. Border pixels see zero padding, which is inside every range
    (it is the mean colour), so no border pixel beats an interior one.
    """
    kernel, bias = weights[LAYERS[0].name]
    if preprocess_mode == "torch":
        lo, hi = (0.0 - IMAGENET_MEAN) / IMAGENET_STD, (1.0 - IMAGENET_MEAN) / IMAGENET_STD
    else:  # caffe: BGR order, mean subtracted, 0-255 scale
        lo, hi = 0.0 - CAFFE_MEAN_BGR, 255.0 - CAFFE_MEAN_BGR
    w = kernel[:, :, :, f].astype(np.float64)
    best = bias[f] + np.maximum(w * lo, w * hi).sum()
    return bool(best > 0)
