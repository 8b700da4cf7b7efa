"""The few lines that depend on Keras' backend, TensorFlow or JAX: everything else is ``keras.ops``.

The ``backend`` setting picks one; a job sets ``KERAS_BACKEND`` to it before Keras starts
(``__main__``). Here are the gradient, the compiled function and its step loop (a
``tf.function`` with a ``tf.range`` loop; ``jax.jit`` with ``lax.scan``), a resize, the
start-up (which GPUs, memory growth, threads), what running out of memory raises, and the
versions a record names.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .. import quiet

NAME = keras.backend.backend()
if NAME == "jax":
    import jax
    import jax.numpy as jnp
    import jaxlib
    from jax import lax

    # What a device raises when a batch does not fit (also other runtime errors: see out_of_memory).
    OutOfMemory = getattr(jax.errors, "JaxRuntimeError", RuntimeError)
else:
    import tensorflow as tf

    OutOfMemory = tf.errors.ResourceExhaustedError


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` (an :data:`OutOfMemory`) is really the device running out of memory."""
    return NAME != "jax" or "RESOURCE_EXHAUSTED" in str(error) or "out of memory" in str(error).lower()


def gradient(per_item, params):
    """Per-item objectives and d(sum of them)/d(params); ``params`` a tensor or a tuple of them."""
    if NAME == "jax":
        def total(p):
            values = per_item(p)
            return ops.sum(values), values
        (_, values), grad = jax.value_and_grad(total, has_aux=True)(params)
        return values, grad
    # Only the input is differentiated: recording the weights would be wasted work.
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(params)
        values = per_item(params)
        total = ops.sum(values)
    return values, tape.gradient(total, params)


def compile(fn, jit: bool = False):
    """``fn`` compiled once per input signature. TensorFlow traces a general signature when
    shapes differ, and compiles with XLA only with ``jit``; JAX always compiles, once per shape."""
    if NAME == "jax":
        return jax.jit(fn)
    return tf.function(fn, jit_compile=jit, reduce_retracing=True)


def step_loop(step, carry, xs):
    """Run ``carry, value = step(i, x_i, carry)`` for each row ``x_i`` of ``xs`` inside the
    compiled function (no host round trip per step); the final carry and the stacked values."""
    if NAME == "jax":
        def body(c, i_x):
            c, value = step(i_x[0], i_x[1], c)
            return c, value
        return lax.scan(body, carry, (jnp.arange(xs.shape[0], dtype=jnp.int32), xs))
    steps = tf.shape(xs)[0]
    values = tf.TensorArray(tf.float32, size=steps)
    for i in tf.range(steps):
        carry, value = step(i, xs[i], carry)
        values = values.write(i, value)
    return carry, values.stack()


def fold(step, x, xs):
    """``x = step(x, x_i)`` for each row of ``xs``, inside the compiled function."""
    if NAME == "jax":
        return lax.scan(lambda c, row: (step(c, row), None), x, xs)[0]
    for i in tf.range(tf.shape(xs)[0]):
        x = step(x, xs[i])
    return x


def resize(images, hw: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of (n, h, w, c) float images to ``hw``, as a NumPy array."""
    if NAME == "jax":
        shape = (images.shape[0], *hw, images.shape[3])
        return np.asarray(jax.image.resize(jnp.asarray(images), shape, "bicubic", antialias=False))
    return tf.image.resize(images, hw, method="bicubic").numpy()


def start(threads: int | None = None) -> int:
    """Let the visible GPUs' memory grow as needed (rather than mapping every card whole) and
    cap the CPU threads; how many GPUs the backend can use. (JAX reads both from the
    environment before it starts: ``jobs/device.choose`` sets them.)"""
    with quiet.native():  # a CPU box's "failed call to cuInit" is not an error here
        if NAME == "jax":
            return sum(1 for d in jax.devices() if d.platform == "gpu")
        gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    return len(gpus)


def gpu_bfloat16() -> bool:
    """Whether the job's GPU has bfloat16 tensor cores: NVIDIA compute capability 8.0 or newer
    (A100, H100, H200, L40S, ...)."""
    if NAME == "jax":
        caps = [getattr(d, "compute_capability", "") for d in jax.devices() if d.platform == "gpu"]
        return bool(caps) and float(caps[0] or 0) >= 8.0
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return False
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
    return tuple(capability) >= (8, 0)


def versions() -> dict:
    """What drew a picture: the backend, its version, and Keras'."""
    if NAME == "jax":
        return {"backend": NAME, "jax": jax.__version__, "jaxlib": jaxlib.__version__, "keras": keras.__version__}
    return {"backend": NAME, "tensorflow": tf.__version__, "keras": keras.__version__}
