"""The render loop: one engine draws every picture of the atlas, from parts handed to it.

A picture is an objective climbed on a network (:class:`Goal`), by parts (``parts.Parts``: a
parameterisation, an update rule, the moves), from random draws (:class:`Draws`). The loop
never learns which kind of picture it draws:

- a method's filter pictures (classic, pixels, fourier, maco: ``pipeline/methods``): each
  filter's mean activation before its ReLU, plus Lucid's diversity term when asked for, and
  minus it for the negative picture (:func:`for_filters`);
- the class images: a class's log-probability on the full network (``jobs/classes.py``);
- dreams: a photo's pixels, a dream objective, the octaves an outer loop (``dream.py``);
- caricatures: photos' pixels, each filter's mean, a pull back towards the photo (``caricature.py``).

Each batch item is its own target with its own seeded generator; steps run inside one compiled
segment with no host round-trip per step (the one place steps are compiled), and a batch saves
its state at each progress line and resumes from it (the one place steps are resumed).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

import numpy as np
from keras import ops

from .. import methods
from ..config import settings
from ..model import network, weights
from ..model.description import ConvLayer
from ..model.preprocess import preprocess
from ..output import layout
from . import backend, objectives, parts as blocks
from .parts import Parts

CURVE_POINTS = 32
EVERY = 30.0         # seconds between progress lines, about
FIRST_SEGMENT = 8    # steps before the first line: soon, and it times a step
CLASS_STREAM = 100  # the random stream of class logits; a conv layer's is its index, 0-12
NEGATIVE = 1000     # a negative picture's draw: [seed, stream, filter, NEGATIVE], beside diversity's


@dataclass
class Rendered:
    """One target's result: the PNG-ready image and what the ascent measured on the way."""

    filter: int
    image: np.ndarray                 # (size, size, bands) uint8
    curve: list[tuple[int, float]]    # (step, mean activation) sampled through the run
    initial: float                    # activation of the starting image
    final: float                      # activation of the final float image
    seconds: float                    # this filter's share of its batch's time
    diverse: list = field(default_factory=list)  # with diversity K: this filter's other K-1 images
    transparency: np.ndarray | None = None  # (size, size) uint8: where the ascent looked (keeps_map)
    pixels: np.ndarray | None = None  # the final image in floats, [0, 255]: a dream's next octave starts there


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


def filter_seed(seed: int, stream: int | tuple[int, ...], index: int, *draw: int) -> np.random.Generator:
    """Every target its own generator: the same image whichever targets share its batch.

    ``stream`` separates kinds of target: a conv layer's index (0-12) for filters,
    :data:`CLASS_STREAM` for class logits, (300, a layer's index) for caricatures; ``draw``
    separates a target's other pictures (diversity's i, a negative picture's :data:`NEGATIVE`).
    """
    return np.random.default_rng([seed, *np.atleast_1d(stream).tolist(), index, *draw])


@dataclass(frozen=True)
class Goal:
    """What is climbed, and on what: ``objective`` read from ``model``'s output on pixels
    scaled by ``preprocess``. ``score`` is what :meth:`Renderer.measure` reports on the model
    (the objective's main term, without terms such as diversity); None: the objective."""

    model: object
    preprocess: str
    objective: objectives.Objective
    score: objectives.Objective | None = None


@dataclass(frozen=True)
class Draws:
    """Which random draws a batch's items take. With ``diversity`` K every target is rendered K
    times; item 0 of each draws exactly what it would alone, a ``negative`` picture its own."""

    seed: int
    stream: int | tuple[int, ...]
    diversity: int = 1
    negative: bool = False

    def generators(self, targets: list[int]) -> list[np.random.Generator]:
        if self.negative:
            return [filter_seed(self.seed, self.stream, f, NEGATIVE) for f in targets]
        return [filter_seed(self.seed, self.stream, f, *([i] if i else [])) for f in targets for i in range(self.diversity)]

    def items(self, targets: list[int]) -> list[int]:
        return [f for f in targets for _ in range(1 if self.negative else self.diversity)]


@dataclass
class Progress:
    """Where and how often a render says how far it is: a line to ``log`` after each segment of
    ``segment`` steps (None: about every :data:`EVERY` seconds, the first segment's time
    setting the others' length), ``left(done)`` adding the job's time left to it."""

    label: str = ""
    log: TextIO = sys.stderr
    left: Callable[[int], str] | None = None
    segment: int | None = None


class Renderer:
    """A compiled climb of ``goal`` with ``parts``; call :meth:`render` with target indices."""

    def __init__(self, goal: Goal, parts: Parts, draws: Draws, jit: bool = False):
        self.band_count = int(goal.model.inputs[0].shape[-1])  # 3 but for a digit classifier's 1, ...
        parts = parts.for_bands(self.band_count)  # a method draws RGB: its parts for the model's bands
        self.goal, self.parts, self.draws = goal, parts, draws
        self.timings: list[tuple[int, float]] = []  # (steps, seconds) of every segment run: the first compiles
        self._segment = backend.compile(self._segment_fn(), jit=jit)
        score = goal.score or goal.objective

        def measure(images, targets):
            out = goal.model(preprocess(images, goal.preprocess))
            return score(objectives.Forward(out), targets), objectives.peaks(out, targets)

        self._measure = backend.compile(measure)
        self._to_image = backend.compile(parts.image.to_image)

    def _segment_fn(self):
        """The compiled segment of steps: one step is the image from the params, moved, through
        the network to the objective, and the update; the state runs through the segment."""
        goal, parts = self.goal, self.parts
        image, optimiser, moves = parts.image, parts.optimiser, parts.moves
        # A filter's spatial mean needs only the target conv's input (objectives.ConvMeanHead):
        # the step loop runs the network up to the layer before, and the full model measures.
        step_model, head, last = goal.model, None, goal.model.layers[-1]
        if objectives.ConvMeanHead.collapses(last) and not goal.objective.whole_layer and image.size:
            step_model, head = network.below_last(goal.model), objectives.ConvMeanHead(last)
            # The layers before it shrink the (padded) image: their output's side, as Keras infers it.
            padded = image.size + 2 * parts.pad
            side = int(step_model.compute_output_shape((1, padded, padded, self.band_count))[1])

        def per_item(params, row, targets, weight_map, probe=None):
            pixels = image.to_image(params)
            if probe is not None:  # zeros: its gradient is the gradient at the pixels
                pixels = pixels + probe
            if moves is not None:
                pixels = moves.apply(pixels, row)
            features = step_model(preprocess(pixels, goal.preprocess))
            return goal.objective(objectives.Forward(features, head, weight_map), targets)

        def segment(params, state, rows, targets, first_step, total):
            # Built here, outside the loop: it depends only on the targets, not on the image.
            weight_map = head.weight_map(targets, side, side) if head else None

            def step(i, row, carry):
                params, state = carry
                if not parts.keeps_map:
                    value, grad = backend.gradient(lambda p: per_item(p, row, targets, weight_map), params)
                    params, state = optimiser.update(params, grad, state, first_step + i + 1, total)
                    return (image.project(params), state), value
                probe = ops.zeros((ops.shape(params)[0], image.size, image.size, self.band_count))
                value, (grad, pixel_grad) = backend.gradient(
                    lambda pq: per_item(pq[0], row, targets, weight_map, pq[1]), (params, probe))
                params, kept = optimiser.update(params, grad, state[:-1], first_step + i + 1, total)
                seen = state[-1] + ops.sum(ops.abs(pixel_grad), axis=-1)
                return (image.project(params), (*kept, seen)), value
            (params, state), acts = backend.step_loop(step, (params, state), rows)
            return params, state, acts
        return segment

    def measure(self, images_uint8_or_float: np.ndarray, targets) -> tuple[np.ndarray, np.ndarray]:
        """(score, peak rectified output) of each image's own target."""
        images = np.asarray(images_uint8_or_float, np.float32)
        means, peaks = self._measure(images, np.asarray(targets, np.int32))
        return np.asarray(means), np.asarray(peaks)

    def start(self, params) -> tuple:
        """The update rule's state at ``params``, and the map of where the ascent looked."""
        state = self.parts.optimiser.state(params)
        if self.parts.keeps_map:
            state = (*state, ops.zeros((ops.shape(params)[0], self.parts.image.size, self.parts.image.size)))
        return state

    def render(self, targets: list[int], steps: int, start: np.ndarray | None = None,
               checkpoint: Checkpoint | None = None, progress: Progress | None = None) -> list[Rendered]:
        """Climb ``steps`` steps for every target in ``targets`` as one batch, from ``start``
        (the params of every item; None: the parameterisation's own start from each item's
        generator). With a ``checkpoint`` the state is saved at each progress line, and a
        saved state that matches is resumed: the same images as a run never stopped.
        """
        t0, talk = time.perf_counter(), progress or Progress()
        generators, items = self.draws.generators(targets), self.draws.items(targets)
        first = self.parts.image.start(generators) if start is None else np.asarray(start, np.float32)
        params = ops.convert_to_tensor(first)
        rows = self.parts.moves.draw(generators, steps) if self.parts.moves is not None \
            else np.zeros((steps, 1), np.float32)  # no moves: the steps still need rows to loop over
        filt = np.asarray(items, np.int32)
        state = self.start(params)
        initial, _ = self.measure(np.asarray(self._to_image(params)), filt)
        trace, lo, length = [], 0, talk.segment or FIRST_SEGMENT
        saved = checkpoint.load() if checkpoint else None
        if saved is not None:
            lo, initial, trace = int(saved["step"]), saved["initial"], [saved["trace"]]
            params = ops.convert_to_tensor(saved["params"])
            state = tuple(ops.convert_to_tensor(saved[f"state{i}"]) for i in range(len(state)))
            print(f"{talk.label}: resuming from step {lo}/{steps}, saved by an earlier run", file=talk.log, flush=True)
        while lo < steps:
            hi, began = min(steps, lo + length), time.perf_counter()
            # The step offset and the run's length go in as tensors: Python ints would
            # recompile every segment and every run length.
            params, state, acts = self._segment(params, state, rows[lo:hi], filt, np.int32(lo), np.int32(steps))
            trace.append(np.asarray(acts))
            self.timings.append((hi - lo, round(time.perf_counter() - began, 4)))
            if talk.segment is None and lo == 0:  # once: every new length compiles anew (JAX: per shape)
                length = segment_length((time.perf_counter() - began) / (hi - lo))
            if checkpoint and hi < steps:
                checkpoint.save(params, state, trace, hi, initial, list(dict.fromkeys(items)))
            print(f"{talk.label} step {hi}/{steps}: mean activation {float(np.mean(trace[-1][-1])):.3g}, "
                  f"{time.perf_counter() - t0:.0f} s" + (f"; {talk.left(hi)}" if talk.left else ""),
                  file=talk.log, flush=True)
            lo = hi
        floats = np.asarray(self._to_image(params))
        final, _ = self.measure(floats, filt)
        maps = transparency(state[-1]) if self.parts.keeps_map else [None] * len(items)
        return self._results(items, floats, np.concatenate(trace, axis=0), (initial, final),
                             (time.perf_counter() - t0) / len(items), maps)

    def _results(self, items, floats, trace, ends, each, maps) -> list[Rendered]:
        """One :class:`Rendered` per target; with diversity K its first item, the rest beside it.

        ``trace`` is (steps, batch): the objective of every item at every step; ``ends`` the
        objective at the start and on the final float images.
        """
        k = 1 if self.draws.negative else self.draws.diversity
        steps, (initial, final) = len(trace), ends
        picks = sorted(set(np.linspace(0, steps - 1, min(steps, CURVE_POINTS)).round().astype(int)))
        out = []
        for b, f in enumerate(items):
            image = self.parts.image.finish(np.nan_to_num(floats[b]))
            curve = [(int(s) + 1, float(trace[s, b])) for s in picks]
            out.append(Rendered(f, image, curve, float(initial[b]), float(final[b]), each * k,
                                transparency=maps[b], pixels=floats[b]))
        if k > 1:
            groups = [out[i:i + k] for i in range(0, len(out), k)]
            for group in groups:
                group[0].diverse = [r.image for r in group[1:]]
            out = [group[0] for group in groups]
        return out


def transparency(seen) -> np.ndarray:
    """(batch, size, size) uint8: each map of where the ascent looked (|d objective / d pixel|,
    summed over colours and steps) over its own 99th percentile, so one hot pixel does not
    leave the rest dark."""
    seen = np.asarray(seen, np.float64)
    top = np.percentile(seen.reshape(len(seen), -1), 99, axis=1)[:, None, None]
    return np.clip(np.rint(255 * seen / np.maximum(top, 1e-12)), 0, 255).astype(np.uint8)


def for_filters(model, layer: ConvLayer, s: settings.Ascent, preprocess_mode: str,
                negative: bool = False) -> Renderer:
    """A Renderer of ``layer``'s filters: each one's mean activation before its ReLU, plus
    Lucid's diversity term when ``s.diversity`` is above 1; with ``negative``, that mean
    minimised (the negative picture: one a filter)."""
    score = objectives.channel()
    objective = -score if negative else \
        score + s.diversity_weight * objectives.diversity() if s.diversity > 1 else score
    parts = methods.get(s.method).parts(s.knobs, s.size, blocks, weights.cache_dir(s.weights.cache))
    return Renderer(Goal(model, preprocess_mode, objective, score), parts, Draws(s.seed, layer.index, s.diversity,
                                                                                 negative), s.jit)


def segment_length(step_seconds: float) -> int:
    """Steps per segment for a line about every :data:`EVERY` seconds: a power of two from
    ``FIRST_SEGMENT`` to 64, so that few segment shapes get compiled."""
    n = FIRST_SEGMENT
    while n < 64 and 2 * n * step_seconds <= EVERY:
        n *= 2
    return n


def batches(filters: list, batch_size: int) -> list[list]:
    """Split into near-equal batches, so at most two batch shapes get compiled."""
    if not filters:
        return []
    n = max(1, math.ceil(len(filters) / max(1, batch_size)))
    size = math.ceil(len(filters) / n)
    return [filters[i:i + size] for i in range(0, len(filters), size)]
