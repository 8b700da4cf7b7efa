"""The render loop: gradient ascent on the input, many filters of one layer at once.

Two methods share the loop and differ only in their parts:

- ``classic``, the seeds' method: pixels start as grey noise, each step adds the gradient
  L2-normalised (``g / (rms(g) + 1e-5)``) times ``step_size``, Chollet's deprocess at the end.
- ``fourier``, the atlas default: a Fourier/decorrelated-colour parameterisation, a random
  jitter/scale/rotation every step, and Adam.

Both maximise the filter's mean activation *before* its ReLU (see ``vgg16.cut_model``). Each
batch item is its own filter, the model is cut at the target layer, and steps run inside one
compiled ``tf.function`` segment with no host round-trip per step.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from keras import ops

from . import deprocess, objectives, param, transforms
from .vgg16 import ConvLayer, preprocess

METHODS = ("fourier", "classic")
CURVE_POINTS = 32


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


def filter_seed(seed: int, stream: int, index: int) -> np.random.Generator:
    """Every target its own generator: the same image whichever targets share its batch.

    ``stream`` separates kinds of target: a conv layer's index (0-12) for filters,
    :data:`CLASS_STREAM` for class logits.
    """
    return np.random.default_rng([seed, stream, index])


CLASS_STREAM = 100


def gradient(per_item, params):
    """The one backend-specific piece: per-item objectives and d(sum of them)/d(params).

    Everything else in the render is ``keras.ops``; porting to another Keras backend means
    rewriting these few lines (``jax.value_and_grad``, ``torch.autograd.grad``).
    """
    import tensorflow as tf

    # Only the input is differentiated: recording the weights would be wasted work.
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(params)
        values = per_item(params)
        total = ops.sum(values)
    return values, tape.gradient(total, params)


class _Method:
    """What differs between methods: the start, the image map, the transforms, the update."""

    pad = 0
    transforms = True

    def __init__(self, size: int, knobs: dict):
        self.size, self.knobs = size, knobs

    def state(self, params):
        return ()


class Classic(_Method):
    transforms = False  # the seeds ascend the image exactly as it is

    def start(self, rng):
        k = self.knobs
        return param.pixels_init(rng, self.size, k["init_mean"], k["init_std"]), transforms.identity

    def to_image(self, params):
        return params

    def update(self, params, grad, state, step):
        # The seeds' normalisation, per item, so every filter moves at the same pace.
        rms = ops.sqrt(ops.mean(ops.square(grad), axis=(1, 2, 3), keepdims=True))
        return params + self.knobs["step_size"] * grad / (rms + 1e-5), state

    def finish(self, image: np.ndarray) -> np.ndarray:
        return deprocess.chollet(image)


class FourierMethod(_Method):
    def __init__(self, size, knobs):
        super().__init__(size, knobs)
        self.fourier = param.Fourier(size, knobs["decay"], knobs["cutoff"])
        self.pad = int(knobs["pad"])

    def start(self, rng):
        k = self.knobs
        spectrum = self.fourier.init(rng, k["init_sd"])

        def draws(steps, rng=rng):
            return transforms.draw(rng, steps, self.size, self.pad, k["jitter"],
                                   tuple(k["scale"]), k["rotate"])
        return spectrum, draws

    def to_image(self, params):
        return self.fourier.to_image(params)

    def state(self, params):
        return (ops.zeros_like(params), ops.zeros_like(params))

    def update(self, params, grad, state, step):
        # Adam, ascending; written out so the compiled loop carries its state as plain tensors.
        b1, b2, lr = 0.9, 0.999, self.knobs["lr"]
        m, v = state
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * ops.square(grad)
        t = ops.cast(step, "float32")
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return params + lr * m_hat / (ops.sqrt(v_hat) + 1e-8), (m, v)

    def finish(self, image: np.ndarray) -> np.ndarray:
        return np.round(np.clip(image, 0, 255)).astype(np.uint8)


def make_method(name: str, size: int, knobs: dict) -> _Method:
    return {"classic": Classic, "fourier": FourierMethod}[name](size, knobs)


class Renderer:
    """A compiled ascent for one model output; call :meth:`render` with target indices.

    By default the targets are filters of the conv layer ``model`` ends at; pass
    ``objective=objectives.class_log_prob`` and a classifier model for class outputs. With
    ``diversity`` K > 1 every target is rendered K times in the batch, pushed apart from each
    other by ``objectives.diversity``; :meth:`render` then returns K images per target.
    """

    def __init__(self, model, layer: ConvLayer | None, method: str, knobs: dict, size: int,
                 preprocess_mode: str, seed: int, jit: bool = False,
                 objective=objectives.filter_means, diversity: int = 1,
                 diversity_weight: float = 0.0):
        import tensorflow as tf

        self.model, self.seed = model, seed
        self.stream = layer.index if layer is not None else CLASS_STREAM
        self.method = make_method(method, size, knobs)
        self.size, self.mode = size, preprocess_mode
        self.diversity = diversity
        m = self.method

        # A filter's spatial mean needs only the target conv's input (objectives.ConvMeanHead):
        # the step loop runs the network up to the layer before, and the full model measures.
        step_model, head = self.model, None
        last = self.model.layers[-1]
        if objective is objectives.filter_means and hasattr(last, "kernel_size"):
            import keras

            step_model = keras.Model(self.model.input, last.input)
            head = objectives.ConvMeanHead(last)
            # Side of the head's input: the (padded) image after the pools before the layer.
            side = (size + 2 * m.pad) // layer.stride

        def per_item(params, rows, filt, weight_map):
            image = m.to_image(params)
            if m.transforms:
                image = transforms.apply(image, rows, m.pad)
            acts = step_model(preprocess(image, self.mode))
            value = head(acts, filt, weight_map) if head else objective(acts, filt)
            if diversity > 1:
                value = value + objectives.diversity(acts, filt, diversity_weight)
            return value

        def segment(params, state, rows, filt, first_step):
            # Built here, outside the loop: it depends only on the filters, not on the image.
            weight_map = head.weight_map(filt, side, side) if head else None
            steps = tf.shape(rows)[0]
            acts = tf.TensorArray(tf.float32, size=steps)
            for i in tf.range(steps):
                value, grad = gradient(lambda p: per_item(p, rows[i], filt, weight_map), params)
                params, state = m.update(params, grad, state, first_step + i + 1)
                acts = acts.write(i, value)
            return params, state, acts.stack()

        def measure(images, filt):
            acts = self.model(preprocess(images, self.mode))
            return objective(acts, filt), objectives.peaks(acts, filt)

        self._segment = tf.function(segment, jit_compile=jit, reduce_retracing=True)
        self._measure = tf.function(measure, reduce_retracing=True)
        self._to_image = tf.function(m.to_image, reduce_retracing=True)

    def measure(self, images_uint8_or_float: np.ndarray, filters) -> tuple[np.ndarray, np.ndarray]:
        """(objective, peak post-ReLU output) of each image's own target."""
        images = np.asarray(images_uint8_or_float, np.float32)
        means, peaks = self._measure(images, np.asarray(filters, np.int32))
        return means.numpy(), peaks.numpy()

    def render(self, filters: list[int], steps: int, segment: int = 64, label: str = "",
               log=sys.stderr) -> list[Rendered]:
        """Ascend ``steps`` steps for every filter in ``filters`` as one batch."""
        t0 = time.perf_counter()
        k = self.diversity
        # Item 0 of each target draws exactly what it would without diversity.
        starts = [self.method.start(filter_seed(self.seed, self.stream, f) if i == 0 else
                                    np.random.default_rng([self.seed, self.stream, f, i]))
                  for f in filters for i in range(k)]
        filters = [f for f in filters for _ in range(k)]
        params = ops.convert_to_tensor(np.stack([p for p, _ in starts]))
        rows = np.stack([d(steps) for _, d in starts], axis=1)  # (steps, batch, 8)
        filt = np.asarray(filters, np.int32)
        state = self.method.state(params)
        first_images = self._to_image(params).numpy()
        initial, _ = self.measure(first_images, filt)
        trace = []
        for lo in range(0, steps, segment):
            hi = min(steps, lo + segment)
            # The step offset goes in as a tensor: a Python int would recompile every segment.
            params, state, acts = self._segment(params, state, rows[lo:hi], filt, np.int32(lo))
            trace.append(acts.numpy())
            print(f"{label} step {hi}/{steps}: mean activation {float(np.mean(trace[-1][-1])):.3g} "
                  f"({time.perf_counter() - t0:.1f} s)", file=log, flush=True)
        floats = self._to_image(params).numpy()
        final, _ = self.measure(floats, filt)
        trace = np.concatenate(trace, axis=0)  # (steps, batch)
        each = (time.perf_counter() - t0) / len(filters)
        picks = sorted(set(np.linspace(0, steps - 1, min(steps, CURVE_POINTS)).round().astype(int)))
        out = []
        for b, f in enumerate(filters):
            image = self.method.finish(np.nan_to_num(floats[b]))
            curve = [(int(s) + 1, float(trace[s, b])) for s in picks]
            out.append(Rendered(f, image, curve, float(initial[b]), float(final[b]), each * k))
        if k > 1:
            groups = [out[i:i + k] for i in range(0, len(out), k)]
            for group in groups:
                group[0].diverse = [r.image for r in group[1:]]
            out = [group[0] for group in groups]
        return out


def batches(filters: list[int], batch_size: int) -> list[list[int]]:
    """Split into near-equal batches, so at most two batch shapes get compiled."""
    n = max(1, math.ceil(len(filters) / max(1, batch_size)))
    size = math.ceil(len(filters) / n)
    return [filters[i:i + size] for i in range(0, len(filters), size)]


def auto_batch_size(layer: ConvLayer, size: int, memory_bytes: int) -> int:
    """How many filters fit in a quarter of ``memory_bytes``, from the activations kept per item.

    Per item the backward pass keeps every layer's input and output up to the target (about
    four float32 tensors per conv); the estimate is deliberately loose, then capped at 256.
    """
    from .vgg16 import LAYERS

    per_item = sum(4 * 4 * (size // l.stride) ** 2 * l.filters for l in LAYERS[: layer.index + 1])
    return int(max(1, min(256, memory_bytes // 4 // per_item)))
