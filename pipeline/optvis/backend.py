"""The few lines that depend on Keras' backend, TensorFlow: everything else is ``keras.ops``.

A port to another Keras backend rewrites this module alone: the gradient
(``jax.value_and_grad``), the compiled function and its step loop (``jax.jit`` with
``lax.fori_loop``), the start-up (which devices, memory growth, threads) and the versions a
record names.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from .. import quiet

NAME = "tensorflow"
# What a device raises when a batch does not fit: the ascent then halves the batch.
OutOfMemory = tf.errors.ResourceExhaustedError


def gradient(per_item, params):
    """Per-item objectives and d(sum of them)/d(params)."""
    # Only the input is differentiated: recording the weights would be wasted work.
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(params)
        values = per_item(params)
        total = ops.sum(values)
    return values, tape.gradient(total, params)


def compile(fn, jit: bool = False):
    """``fn`` compiled once per input signature (shapes that differ trace a general one)."""
    return tf.function(fn, jit_compile=jit, reduce_retracing=True)


def step_loop(step, carry, xs):
    """Run ``carry, value = step(i, x_i, carry)`` for each row ``x_i`` of ``xs`` inside the
    compiled graph (no host round trip per step); the final carry and the stacked values."""
    steps = tf.shape(xs)[0]
    values = tf.TensorArray(tf.float32, size=steps)
    for i in tf.range(steps):
        carry, value = step(i, xs[i], carry)
        values = values.write(i, value)
    return carry, values.stack()


def fold(step, x, xs):
    """``x = step(x, x_i)`` for each row of ``xs``, inside the compiled graph."""
    for i in tf.range(tf.shape(xs)[0]):
        x = step(x, xs[i])
    return x


def resize(images, hw: tuple[int, int]):
    """Bicubic resize of (n, h, w, c) float images to ``hw``, as a NumPy array."""
    return tf.image.resize(images, hw, method="bicubic").numpy()


def start(threads: int | None = None) -> int:
    """Let the visible GPUs' memory grow as needed (rather than mapping every card whole) and
    cap the CPU threads; how many GPUs the backend can use."""
    with quiet.native():  # a CPU box's "failed call to cuInit" is not an error here
        gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    return len(gpus)


def versions() -> dict:
    return {NAME: tf.__version__, "keras": keras.__version__}
