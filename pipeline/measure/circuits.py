"""How the filters connect, read from the weights alone.

Where a conv reads another conv's output through layers that keep channels apart (a ReLU, a
pool, padding: VGG16's and AlexNet's plain chains), filter ``g`` sees filter ``f`` of that conv
only through the slice ``kernel[:, :, f, g]``. The slice's L2 norm says how strongly ``f``
drives ``g``; the sign of its sum says whether a uniform response of ``f`` excites or inhibits
``g``. That ranks every filter's inputs and outputs without rendering anything. Across a merge
(a residual sum, a concatenation) or a normalisation a slice no longer says that, and a conv
there has no circuits listed (``ConvLayer.reads`` is None; the page says so).

A conv that reads the pixels directly has its inputs shown as a kernel picture, and whether it
can fire at all is exactly decidable (:func:`can_fire`): it is linear in the pixels.
"""

from __future__ import annotations

import numpy as np

from ..model import graph
from ..model.description import ConvLayer, Network
from ..model.preprocess import bounds
from ..output.record import Link

TOP = 8  # inputs and outputs listed per filter


def kernels(base, net: Network) -> dict[str, tuple[np.ndarray, ...]]:
    """{layer: (kernel (k, k, in, out), bias (out,) if it has one)} of a loaded network's plain
    convs (a depthwise, separable or grouped conv's kernel links no two filters)."""
    return {l.name: tuple(np.asarray(w) for w in graph.find(base, l.name).get_weights())
            for l in net.layers if l.kind == "conv"}


def _ranked(slices: np.ndarray, layer: str, top: int) -> list[Link]:
    """slices (k, k, n): one slice per neighbour filter -> the ``top`` strongest links."""
    norms = np.sqrt((slices.astype(np.float64) ** 2).sum(axis=(0, 1)))
    sums = slices.sum(axis=(0, 1))
    # Stable sort on the negated norm: ties keep index order, so the list is reproducible.
    order = np.argsort(-norms, kind="stable")[:top]
    return [Link(layer, int(i), round(float(norms[i]), 6), "excites" if sums[i] >= 0 else "inhibits")
            for i in order]


def inputs(weights: dict, layer: ConvLayer, f: int, top: int = TOP) -> list[Link]:
    """The filters of the conv ``layer`` reads that drive ``f`` most; none where it reads the
    image or circuits cannot follow."""
    if not layer.reads:
        return []
    return _ranked(weights[layer.name][0][:, :, :, f], layer.reads, top)


def outputs(weights: dict, net: Network, layer: ConvLayer, f: int, top: int = TOP) -> list[Link]:
    """The filters of the convs reading ``layer`` that ``f`` drives most (the strongest ``top``
    of them all); none for the last layer."""
    links = [link for after in net.after(layer.name)
             for link in _ranked(weights[after.name][0][:, :, f, :], after.name, top)]
    return sorted(links, key=lambda link: -link.weight)[:top]


def rgb_kernel(weights: dict, layer: ConvLayer, f: int, preprocess_mode: str) -> list:
    """The kernel of filter ``f`` of a conv that reads the pixels, as k x k RGB colours
    (mid-grey is zero, each channel scaled by the kernel's largest magnitude), for the filter
    page to draw enlarged."""
    k = weights[layer.name][0][:, :, :, f]
    if preprocess_mode == "caffe":
        k = k[:, :, ::-1]  # caffe weights read BGR
    k = k / (np.abs(k).max() or 1.0)
    return np.clip(np.round(127.5 + 127.5 * k), 0, 255).astype(int).tolist()


def can_fire(weights: dict, layer: ConvLayer, f: int, preprocess_mode: str) -> bool:
    """Whether any image with pixels in [0, 255] makes filter ``f`` of a conv that reads the
    pixels positive.

    The output at a pixel is ``bias + sum(w * x)`` over a k x k x 3 window of preprocessed
    pixels, each free within its channel's range, so its maximum puts every pixel at whichever
    end of its range its weight favours. Border pixels see zero padding, which is inside every
    range (for ImageNet's scalings it is the mean colour), so no border pixel beats an interior
    one.
    """
    kernel, *bias = weights[layer.name]  # a conv followed by a batch norm often has no bias
    lo, hi = bounds(preprocess_mode)
    w = kernel[:, :, :, f].astype(np.float64)
    best = (bias[0][f] if bias else 0.0) + np.maximum(w * lo, w * hi).sum()
    return bool(best > 0)
