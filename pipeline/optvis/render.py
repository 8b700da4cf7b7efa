"""The render loop: gradient ascent on the input, many filters of one layer at once.

Three methods share the loop and differ only in their parts:

- ``classic`` (Chollet 2016): pixels start as grey noise, each step adds the gradient
  L2-normalised (``g / (rms(g) + 1e-5)``) times ``step_size``, Chollet's deprocess at the end.
- ``fourier`` (Lucid, Olah et al. 2017), the atlas default: a Fourier/decorrelated-colour
  parameterisation, a random jitter/scale/rotation every step, and Adam.
- ``maco`` (Fel et al. 2023): ``fourier``'s moves, schedule and Adam, but only the spectrum's
  phase is optimised, its magnitude held at photos' own.

What is maximised is an ``objectives.Objective``: for the atlas, each filter's mean activation
*before* its ReLU (see ``network.cut_model``), plus the diversity term when asked for. Each
batch item is its own filter, the model is cut at the target layer, and steps run inside one
compiled segment with no host round-trip per step.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from keras import ops

from ..config import settings
from ..model import network, weights
from ..model.description import ConvLayer
from ..model.preprocess import preprocess
from ..output import layout
from . import backend, deprocess, objectives, optimise, param, spectrum, transform

CURVE_POINTS = 32
EVERY = 30.0         # seconds between progress lines, about
FIRST_SEGMENT = 8    # steps before the first line: soon, and it times a step
CLASS_STREAM = 100  # the random stream of class logits; a conv layer's is its index, 0-12
NEGATIVE = 1000     # a negative picture's draw: [seed, stream, filter, NEGATIVE], beside diversity's


@dataclass
class Rendered:
    """One filter's result: the PNG-ready image and what the ascent measured on the way."""

    filter: int
    image: np.ndarray                 # (size, size, 3) uint8
    curve: list[tuple[int, float]]    # (step, mean activation) sampled through the run
    initial: float                    # activation of the starting image
    final: float                      # activation of the final float image
    seconds: float                    # this filter's share of its batch's time
    diverse: list = field(default_factory=list)  # with diversity K: this filter's other K-1 images
    transparency: np.ndarray | None = None  # (size, size) uint8: where the ascent looked (maco)


@dataclass(frozen=True)
class Checkpoint:
    """Where a batch saves its state at each progress line, and what a saved state must match
    (the batch's filters, steps and settings) to be resumed."""

    path: Path
    key: str

    def load(self) -> dict | None:
        try:
            with np.load(self.path) as saved:
                data = {name: saved[name] for name in saved.files}
        except (OSError, ValueError, EOFError):
            return None
        return data if str(data.get("key")) == self.key else None

    def resumes_from(self) -> int:
        """The step a matching saved state resumes at (0 without one), reading only its key and
        step: the state itself can be hundreds of MB."""
        try:
            with np.load(self.path) as saved:
                return int(saved["step"]) if str(saved["key"]) == self.key else 0
        except (OSError, ValueError, EOFError, KeyError):
            return 0

    def save(self, params, state, trace: list[np.ndarray], step: int, initial: np.ndarray,
             filters: list[int]) -> None:
        layout.write_npz(self.path, key=np.array(self.key), filters=np.asarray(filters), params=np.asarray(params),
                         step=np.array(step),
                         trace=np.concatenate(trace, axis=0), initial=initial,
                         **{f"state{i}": np.asarray(x) for i, x in enumerate(state)})


def filter_seed(seed: int, stream: int, index: int) -> np.random.Generator:
    """Every target its own generator: the same image whichever targets share its batch.

    ``stream`` separates kinds of target: a conv layer's index (0-12) for filters,
    :data:`CLASS_STREAM` for class logits.
    """
    return np.random.default_rng([seed, stream, index])


class ClassicMethod:
    """Chollet 2016: pixels from grey noise, the gradient L2-normalised per item, no transforms."""

    pad = 0
    moved = False
    canvas = "reflect"
    transparent = False  # see MacoMethod

    def __init__(self, s: settings.Ascent):
        self.size, self.knobs = s.size, s.classic

    def start(self, rng):
        k = self.knobs
        return param.pixels_init(rng, self.size, k.init_mean, k.init_std), transform.identity

    def to_image(self, params):
        return params

    def state(self, params):
        return ()

    def update(self, params, grad, state, step, total):
        # Per item, so every filter moves at the same pace.
        return params + self.knobs.step_size * optimise.normalised(grad), state

    def finish(self, image: np.ndarray) -> np.ndarray:
        return deprocess.chollet(image)


class FourierMethod:
    """Lucid: a Fourier/decorrelated-colour image, transformed at random every step, and Adam."""

    moved = True
    transparent = False

    def __init__(self, s: settings.Ascent):
        self.size, self.knobs = s.size, s.knobs
        self.pad = int(self.knobs.pad)
        self.canvas = self.knobs.canvas
        self.image = self.parameterisation(s)

    def parameterisation(self, s: settings.Ascent):
        return param.FourierImage(s.size, s.fourier.decay, s.fourier.cutoff)

    def first(self, rng):
        return self.image.init(rng, self.knobs.init_sd)

    def start(self, rng):
        k = self.knobs
        params = self.first(rng)

        def draws(steps, rng=rng):
            return transform.draw(rng, steps, self.size, self.pad, k.jitter, tuple(k.scale), k.rotate)
        return params, draws

    def to_image(self, params):
        return self.image.to_image(params)

    def state(self, params):
        return optimise.adam_state(params)

    def update(self, params, grad, state, step, total):
        lr = optimise.learning_rate(self.knobs.schedule, self.knobs.lr, step, total)
        return optimise.adam_ascent(params, grad, state, step, lr)

    def finish(self, image: np.ndarray) -> np.ndarray:
        return deprocess.to_uint8(image)


class MacoMethod(FourierMethod):
    """Fel et al. 2023: the phase over photos' magnitude spectrum; the rest is ``fourier``'s.

    It also keeps the paper's transparency map: |d objective / d pixel|, summed over colours
    and steps, in the last item of its state (so a checkpoint saves and resumes it). Where the
    map is bright the filter looked; it costs one more output of the backward pass.
    """

    transparent = True

    def state(self, params):
        return (*optimise.adam_state(params), ops.zeros((ops.shape(params)[0], self.size, self.size)))

    def update(self, params, grad, state, step, total):
        params, adam = super().update(params, grad, state[:-1], step, total)
        return params, (*adam, state[-1])

    @staticmethod
    def seen(state, pixel_grad):
        return (*state[:-1], state[-1] + ops.sum(ops.abs(pixel_grad), axis=-1))

    @staticmethod
    def transparency(state) -> np.ndarray:
        """(batch, size, size) uint8: each map over its own 99th percentile, so one hot pixel
        does not leave the rest dark."""
        seen = np.asarray(state[-1], np.float64)
        top = np.percentile(seen.reshape(len(seen), -1), 99, axis=1)[:, None, None]
        return np.clip(np.rint(255 * seen / np.maximum(top, 1e-12)), 0, 255).astype(np.uint8)

    def parameterisation(self, s: settings.Ascent):
        magnitude, _ = spectrum.natural(s.maco.spectrum, s.maco.fingerprint, s.size,
                                        weights.cache_dir(s.weights.cache))
        return param.MacoImage(magnitude)

    def first(self, rng):
        return self.image.init(rng)


METHODS = {"classic": ClassicMethod, "fourier": FourierMethod, "maco": MacoMethod}


class Renderer:
    """A compiled ascent of ``objective`` on ``model``; call :meth:`render` with target indices.

    ``score`` is what :meth:`measure` reports on the full model (the objective's main term,
    without terms such as diversity). With ``s.diversity`` K > 1 every target is rendered K
    times in the batch and :meth:`render` returns K images per target. ``stream`` separates
    the random streams of kinds of target (a conv layer's index, or :data:`CLASS_STREAM`).
    """

    def __init__(self, model, s: settings.Ascent, preprocess_mode: str, stream: int,
                 objective: objectives.Objective, score: objectives.Objective, negative: bool = False):
        self.model, self.seed, self.stream = model, s.seed, stream
        self.timings: list[tuple[int, float]] = []  # (steps, seconds) of every segment run: the first compiles
        self.negative = negative  # its objective minimises: one picture a target, from its own draw
        self.diversity = 1 if negative else s.diversity
        self.method = m = METHODS[s.method](s)
        self.mode = preprocess_mode
        # A filter's spatial mean needs only the target conv's input (objectives.ConvMeanHead):
        # the step loop runs the network up to the layer before, and the full model measures.
        last, step_model, head = model.layers[-1], model, None
        if objectives.ConvMeanHead.collapses(last):
            step_model, head = network.below_last(model), objectives.ConvMeanHead(last)
            # The layers before it shrink the (padded) image: their output's side, as Keras infers it.
            padded = s.size + 2 * m.pad
            side = int(step_model.compute_output_shape((1, padded, padded, 3))[1])

        def per_item(params, rows, targets, weight_map, probe=None):
            image = m.to_image(params)
            if probe is not None:  # zeros: its gradient is the gradient at the pixels
                image = image + probe
            if m.moved:
                image = transform.apply(image, rows, m.pad, m.canvas)
            return objective(objectives.Forward(step_model(preprocess(image, self.mode)), head, weight_map), targets)

        def segment(params, state, rows, targets, first_step, total):
            # Built here, outside the loop: it depends only on the targets, not on the image.
            weight_map = head.weight_map(targets, side, side) if head else None

            def step(i, row, carry):
                if not m.transparent:
                    value, grad = backend.gradient(lambda p: per_item(p, row, targets, weight_map), carry[0])
                    return m.update(carry[0], grad, carry[1], first_step + i + 1, total), value
                probe = ops.zeros((ops.shape(carry[0])[0], m.size, m.size, 3))
                value, (grad, pixel_grad) = backend.gradient(
                    lambda pq: per_item(pq[0], row, targets, weight_map, pq[1]), (carry[0], probe))
                params, state = m.update(carry[0], grad, carry[1], first_step + i + 1, total)
                return (params, m.seen(state, pixel_grad)), value
            (params, state), acts = backend.step_loop(step, (params, state), rows)
            return params, state, acts

        def measure(images, targets):
            out = self.model(preprocess(images, self.mode))
            return score(objectives.Forward(out), targets), objectives.peaks(out, targets)

        self._segment = backend.compile(segment, jit=s.jit)
        self._measure = backend.compile(measure)
        self._to_image = backend.compile(m.to_image)

    def measure(self, images_uint8_or_float: np.ndarray, targets) -> tuple[np.ndarray, np.ndarray]:
        """(score, peak rectified output) of each image's own target."""
        images = np.asarray(images_uint8_or_float, np.float32)
        means, peaks = self._measure(images, np.asarray(targets, np.int32))
        return np.asarray(means), np.asarray(peaks)

    def render(self, targets: list[int], steps: int, segment: int | None = None, label: str = "",
               log=sys.stderr, left=None, checkpoint: Checkpoint | None = None) -> list[Rendered]:
        """Ascend ``steps`` steps for every target in ``targets`` as one batch.

        A line goes to ``log`` after each segment of steps; with ``segment`` None the first
        segment's time sets the others' length, so that a line comes about every :data:`EVERY`
        seconds. ``left(done)``, given the steps done, may add the job's time left to it. With
        a ``checkpoint`` the state is saved at each line, and a saved state that matches is
        resumed: the same images as a run never stopped.
        """
        t0 = time.perf_counter()
        k = self.diversity
        # Item 0 of each target draws exactly what it would without diversity; a negative
        # picture draws its own.
        starts = [self.method.start(np.random.default_rng([self.seed, self.stream, f, NEGATIVE]) if self.negative
                                    else filter_seed(self.seed, self.stream, f) if i == 0 else
                                    np.random.default_rng([self.seed, self.stream, f, i]))
                  for f in targets for i in range(k)]
        targets = [f for f in targets for _ in range(k)]
        params = ops.convert_to_tensor(np.stack([p for p, _ in starts]))
        rows = np.stack([d(steps) for _, d in starts], axis=1)  # (steps, batch, 8)
        filt = np.asarray(targets, np.int32)
        state = self.method.state(params)
        initial, _ = self.measure(np.asarray(self._to_image(params)), filt)
        trace, lo, length = [], 0, segment or FIRST_SEGMENT
        saved = checkpoint.load() if checkpoint else None
        if saved is not None:
            lo, initial, trace = int(saved["step"]), saved["initial"], [saved["trace"]]
            params = ops.convert_to_tensor(saved["params"])
            state = tuple(ops.convert_to_tensor(saved[f"state{i}"]) for i in range(len(state)))
            print(f"{label}: resuming from step {lo}/{steps}, saved by an earlier run", file=log, flush=True)
        while lo < steps:
            hi, began = min(steps, lo + length), time.perf_counter()
            # The step offset and the run's length go in as tensors: Python ints would
            # recompile every segment and every run length.
            params, state, acts = self._segment(params, state, rows[lo:hi], filt, np.int32(lo),
                                                np.int32(steps))
            trace.append(np.asarray(acts))
            self.timings.append((hi - lo, round(time.perf_counter() - began, 4)))
            if segment is None and lo == 0:  # once: every new length compiles anew (JAX: per shape)
                length = segment_length((time.perf_counter() - began) / (hi - lo))
            if checkpoint and hi < steps:
                checkpoint.save(params, state, trace, hi, initial, list(dict.fromkeys(targets)))
            print(f"{label} step {hi}/{steps}: mean activation {float(np.mean(trace[-1][-1])):.3g}, "
                  f"{time.perf_counter() - t0:.0f} s" + (f"; {left(hi)}" if left else ""), file=log,
                  flush=True)
            lo = hi
        floats = np.asarray(self._to_image(params))
        final, _ = self.measure(floats, filt)
        maps = self.method.transparency(state) if self.method.transparent else [None] * len(targets)
        return self._results(targets, floats, np.concatenate(trace, axis=0), initial, final,
                             (time.perf_counter() - t0) / len(targets), maps)

    def _results(self, targets, floats, trace, initial, final, each, maps) -> list[Rendered]:
        """One :class:`Rendered` per target; with diversity K its first item, the rest beside it.

        ``trace`` is (steps, batch): the objective of every item at every step.
        """
        k, steps = self.diversity, len(trace)
        picks = sorted(set(np.linspace(0, steps - 1, min(steps, CURVE_POINTS)).round().astype(int)))
        out = []
        for b, f in enumerate(targets):
            image = self.method.finish(np.nan_to_num(floats[b]))
            curve = [(int(s) + 1, float(trace[s, b])) for s in picks]
            out.append(Rendered(f, image, curve, float(initial[b]), float(final[b]), each * k,
                                transparency=maps[b]))
        if k > 1:
            groups = [out[i:i + k] for i in range(0, len(out), k)]
            for group in groups:
                group[0].diverse = [r.image for r in group[1:]]
            out = [group[0] for group in groups]
        return out


def for_filters(model, layer: ConvLayer, s: settings.Ascent, preprocess_mode: str,
                negative: bool = False) -> Renderer:
    """A Renderer of ``layer``'s filters: each one's mean activation before its ReLU, plus
    Lucid's diversity term when ``s.diversity`` is above 1; with ``negative``, that mean
    minimised (the negative picture: one a filter)."""
    score = objectives.channel()
    if negative:
        return Renderer(model, s, preprocess_mode, layer.index, -score, score, negative=True)
    objective = score + s.diversity_weight * objectives.diversity() if s.diversity > 1 else score
    return Renderer(model, s, preprocess_mode, layer.index, objective, score)


def segment_length(step_seconds: float) -> int:
    """Steps per segment for a line about every :data:`EVERY` seconds: a power of two from
    ``FIRST_SEGMENT`` to 64, so that few segment shapes get compiled."""
    n = FIRST_SEGMENT
    while n < 64 and 2 * n * step_seconds <= EVERY:
        n *= 2
    return n


def batches(filters: list[int], batch_size: int) -> list[list[int]]:
    """Split into near-equal batches, so at most two batch shapes get compiled."""
    if not filters:
        return []
    n = max(1, math.ceil(len(filters) / max(1, batch_size)))
    size = math.ceil(len(filters) / n)
    return [filters[i:i + size] for i in range(0, len(filters), size)]
