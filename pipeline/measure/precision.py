"""Whether bfloat16 draws the pictures float32 draws: ``precision: auto``'s guard, calibrated
like the pages' crosses, against what a different seed changes anyway.

Rendering a filter again in float32 with another seed moves its picture's activation and
robustness by some amount; that is the spread nobody reads a difference into. bfloat16 holds
where the pictures it draws (same filters, same seed) move no further from float32's than that,
beyond what a few filters can tell (:func:`holds`). ``bench/precision.py`` measures it per block on filters drawn at random, and
``config/recipes.py`` keeps its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .probe import Probe


@dataclass(frozen=True)
class Changes:
    """How far other pictures of the same filters moved from the reference ones, per filter: the
    activation each reaches on its saved PNG (|log| of the ratio) and its robustness (the
    absolute difference; NaN where a picture does not fire, so has none)."""

    activation: np.ndarray
    robustness: np.ndarray

    @classmethod
    def between(cls, probe: Probe, reference: np.ndarray, other: np.ndarray, filters: list[int]) -> Changes:
        """``reference`` and ``other``: (n, h, w, 3) saved pictures of ``filters``, measured in
        the probe's precision (float32, as the scorecard measures)."""
        act = probe.own(np.concatenate([reference, other]).astype(np.float32), filters * 2)
        ratio = act[len(filters):] / np.maximum(act[:len(filters)], 1e-9)
        robust = np.array([[probe.robustness(img.astype(np.float32), f) for img in (a, b)]
                           for a, b, f in zip(reference, other, filters)])
        return cls(np.abs(np.log(np.maximum(ratio, 1e-9))), np.abs(robust[:, 1] - robust[:, 0]))

    @property
    def largest(self) -> tuple[float, float]:
        """The largest activation change and the largest robustness change (a picture without a
        robustness counts as the largest possible)."""
        return float(self.activation.max()), float(np.nan_to_num(self.robustness, nan=np.inf).max())


def holds(seed: Changes, bf16: Changes) -> bool:
    """Whether bfloat16's changes lie within a second float32 seed's: for activation and
    robustness each, bfloat16's mean change is at most the seed's mean change plus twice the
    standard error of the difference of the two means. The largest against the largest would
    fail half the time on a few filters even where bfloat16 is only another draw (it failed two
    of three small draws of block 2 and 3 that this passes). Where bfloat16 is only another
    draw, this fails one block in ten at three filters, one in 15 at five; where bfloat16 moves
    pictures three times as far as a seed, it catches that at 37% and 51% (simulated on
    exchangeable draws): a few filters cannot say more, so the bench checks a second draw. A
    bfloat16 picture without a robustness (it does not fire where float32's does) fails; a
    seed's is left out of its spread."""
    for spread, change in ((seed.activation, bf16.activation), (seed.robustness, bf16.robustness)):
        if np.isnan(change).any():
            return False
        spread = spread[~np.isnan(spread)]
        error = np.sqrt(spread.var(ddof=1) / len(spread) + change.var(ddof=1) / len(change))
        if change.mean() > spread.mean() + 2 * error:
            return False
    return True
