"""Rotation twins: filters that are rotated or mirrored copies of one another.

Chollet (2016) noticed that many VGG16 filters look like rotated copies of others, even deep in
the network. Measured here: filter B is a twin of filter A under a transform T (rotation by 90,
180 or 270 degrees, or a left-right mirror) when B's activation on T(A's picture) is at least
:data:`THRESHOLD` of A's activation on its own picture. Activations are spatial means before
the layer's output (after the ReLU), as the scorecard measures them. One batched forward pass
per transform covers every filter of the layer: a forward pass measures every channel at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.9
TRANSFORMS = {
    "rotated 90°": lambda x: np.rot90(x, 1, axes=(1, 2)),
    "rotated 180°": lambda x: np.rot90(x, 2, axes=(1, 2)),
    "rotated 270°": lambda x: np.rot90(x, 3, axes=(1, 2)),
    "mirrored": lambda x: x[:, :, ::-1],
}


@dataclass(frozen=True)
class Twin:
    filter: int     # A: the filter whose picture was transformed
    twin: int       # B: the filter that answers the transformed picture
    transform: str  # one of TRANSFORMS
    ratio: float    # B on T(A's picture) over A on its own picture


def find(activations, images: np.ndarray, filters: list[int], threshold: float = THRESHOLD) -> list[Twin]:
    """Every (A, B, T) with B != A at or above ``threshold``, the strongest B first for each A.

    ``activations(images) -> (n, channels)`` measures every filter of the layer on each image;
    ``images[i]`` is filter ``filters[i]``'s picture. A filter that does not fire on its own
    picture has no twins: there is nothing to compare against.
    """
    own = activations(images)[np.arange(len(filters)), filters]
    found = []
    for name, transform in TRANSFORMS.items():
        moved = activations(np.ascontiguousarray(transform(images)))
        for i, a in enumerate(filters):
            if own[i] <= 0:
                continue
            ratios = moved[i] / own[i]
            ratios[a] = -np.inf
            for b in np.flatnonzero(ratios >= threshold):
                found.append(Twin(int(a), int(b), name, round(float(ratios[b]), 4)))
    return sorted(found, key=lambda t: (t.filter, -t.ratio, t.twin, t.transform))
