"""Rotation twins: filters that are rotated or mirrored copies of one another.

Chollet (2016) noticed that many VGG16 filters look like rotated copies of others, even deep in
the network. Measured here: filter B is a twin of filter A under a transform T (rotation by 90,
180 or 270 degrees, or a left-right mirror) when B's activation on T(A's picture) is at least
:data:`THRESHOLD` of A's activation on its own picture, and at least :data:`THRESHOLD` of B's
activation on its own picture, and at least :data:`SELECTIVE` times B's activation on A's
picture as it is. The first is the likeness the question asks for. The second keeps out a
filter that answers every saturated picture strongly, and needs B's picture: twins are looked
for among the rendered filters. The third asks that it is the transform B answers: two
first-layer colour detectors answer each other's near-uniform pictures in any orientation,
which makes them alike, not rotated copies. Activations are spatial means of the layer's
output (after the ReLU), as the scorecard measures them. One batched forward pass per
transform covers every filter of the layer: a forward pass measures every channel at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.9
SELECTIVE = 1.1
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


def likely(activations, images: np.ndarray, filters: list[int],
           threshold: float = THRESHOLD) -> tuple[list[tuple[Twin, float]], np.ndarray]:
    """Every (A, B, T) with A among ``filters`` and B any filter of the layer that passes the two
    tests needing only A's picture (the likeness and the selectivity), each with B's answer;
    and each filter's activation on its own picture.

    ``activations(images) -> (n, channels)`` measures every filter of the layer on each image;
    ``images[i]`` is filter ``filters[i]``'s picture. A filter that does not fire on its own
    picture has no twins: there is nothing to compare against.
    """
    plain = activations(images)
    own = plain[np.arange(len(filters)), filters]
    found = []
    for name, transform in TRANSFORMS.items():
        moved = activations(np.ascontiguousarray(transform(images)))
        for i, a in enumerate(filters):
            if own[i] <= 0:
                continue
            alike = (moved[i] >= threshold * own[i]) & (moved[i] >= SELECTIVE * plain[i])
            alike[a] = False
            found += [(Twin(int(a), int(b), name, round(float(moved[i, b] / own[i]), 4)), float(moved[i, b]))
                      for b in np.flatnonzero(alike)]
    return found, own


def find(activations, images: np.ndarray, filters: list[int], threshold: float = THRESHOLD) -> list[Twin]:
    """Every (A, B, T) among ``filters`` with B != A at or above ``threshold`` both ways (see
    above), the strongest B first for each A."""
    candidates, own = likely(activations, images, filters, threshold)
    return confirm(candidates, dict(zip(filters, own)), threshold)


def confirm(candidates: list[tuple[Twin, float]], own: dict, threshold: float = THRESHOLD) -> list[Twin]:
    """The last test: B's answer is also at least ``threshold`` of B's activation on its own
    picture (``own``: filter -> that activation; a B without one is left out). The strongest B
    first for each A."""
    found = [t for t, answer in candidates if own.get(t.twin, 0) > 0 and answer >= threshold * own[t.twin]]
    return sorted(found, key=lambda t: (t.filter, -t.ratio, t.twin, t.transform))
