"""The update rules: Chollet 2016's normalised step, and Adam with its learning-rate schedules.

An optimiser is a value with two methods: ``state(params)`` (what it carries from step to step,
a tuple of tensors) and ``update(params, grad, state, step, total)`` (the next params and
state). Both are written out in ``keras.ops`` so the compiled step loop carries the state as
plain tensors. The step and the run's length come in as tensors, so one compiled loop serves
any run length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from keras import ops

WARMUP = 0.1  # share of a cosine or wsd run spent warming up
HOLD = 0.75   # wsd: the rate stays at its peak until this share of the run, then falls to zero
BETAS = (0.9, 0.999)  # Adam's (Kingma and Ba 2015), as Lucid uses them


def normalised(grad):
    """Chollet's gradient normalisation, per batch item: ``g / (rms(g) + 1e-5)``."""
    rms = ops.sqrt(ops.mean(ops.square(grad), axis=tuple(range(1, len(grad.shape))), keepdims=True))
    return grad / (rms + 1e-5)


@dataclass(frozen=True)
class NormalisedStep:
    """Chollet 2016's update: ``step_size`` pixel levels along the per-item normalised gradient,
    so every item moves at the same pace whatever its gradient's scale.

    With ``tie`` above 0 each step also pulls the params back towards where they started by
    ``tie`` of their distance (a caricature's photo, Hamblin et al. 2024), so nothing drifts
    further than about ``step_size / tie`` from it. The pull is decoupled from the gradient, as
    AdamW's weight decay is: as an objective term it would be normalised together with the
    filter's gradient, and its strength would then depend on how steep the filter is. The
    starting params are the state it carries.
    """

    step_size: float
    tie: float = 0.0

    def state(self, params) -> tuple:
        return (params,) if self.tie else ()

    def update(self, params, grad, state, step, total):
        moved = params + self.step_size * normalised(grad)
        if self.tie:
            moved = moved - self.tie * (params - state[0])
        return moved, state


@dataclass(frozen=True)
class Adam:
    """Adam up the gradient (Lucid's optimiser), its rate following ``schedule``."""

    schedule: str
    lr: float

    def state(self, params) -> tuple:
        return (ops.zeros_like(params), ops.zeros_like(params))

    def update(self, params, grad, state, step, total):
        return adam_ascent(params, grad, state, step, learning_rate(self.schedule, self.lr, step, total))


def learning_rate(schedule: str, lr: float, step, total):
    """Adam's rate at ``step`` of ``total``.

    ``lucid``: constant, Lucid's recipe. ``cosine`` and ``wsd`` warm up linearly over the
    first ``WARMUP`` of the run (Adam's first steps are the noisiest), then fall to zero so
    the last steps settle the image instead of shaking it: ``cosine`` along a cosine;
    ``wsd`` (warm-up, stable, decay) holds the peak until ``HOLD``, then falls linearly,
    which travels further in the same steps: what block 5's filters need.
    """
    if schedule == "lucid":
        return lr
    t = ops.minimum(ops.cast(step, "float32") / ops.cast(total, "float32"), 1.0)
    warm = ops.minimum(1.0, t / WARMUP)
    if schedule == "wsd":
        return lr * warm * ops.minimum(1.0, (1.0 - t) / (1.0 - HOLD))
    return lr * warm * 0.5 * (1.0 + ops.cos(math.pi * t))


def adam_ascent(params, grad, state, step, lr):
    """One Adam step up the gradient; the new params and state. ``step`` counts from 1."""
    b1, b2 = BETAS
    m, v = state
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * ops.square(grad)
    t = ops.cast(step, "float32")
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return params + lr * m_hat / (ops.sqrt(v_hat) + 1e-8), (m, v)
