"""What the ``auto`` settings that are not a method's mean: the one place each is resolved.

``chunk_size`` is a whole layer; ``batch_size`` is what fits in the memory the job finds;
``precision`` is bfloat16 where the job's processor computes it natively (decided by the job:
``jobs/common.py``), at every depth: its pictures move no further from float32's than a second
seed's do, in every block of VGG16 on two draws (``measure/precision.py``, bench/precision.py,
docs/speed.md), and it is faster in every block. A layer's depth is relative
(0 the first conv, 1 the last), so that any network's layers find their recipe; VGG16's blocks
resolve as they were tuned. What ``auto`` means for ``steps`` and a method's own settings is
the method's (``methods/*.py``, e.g. ``methods.fourier.RECIPES``).
"""

from __future__ import annotations

from ..model.description import ConvLayer, Network

MAX_BATCH = 256


def chunk_size(setting: int | str, layer: ConvLayer) -> int:
    """Filters per ascent job: a whole layer under 'auto'.

    A job pays a fixed start of about 5 s (importing TensorFlow, loading 58 MB of weights)
    and about 2 s per layer and method to trace its step loop; on a GPU that is most of a
    small job (bench/jobs.py). Whole layers keep it to 13 jobs for VGG16, and still give 8 GPUs work.
    """
    return layer.filters if setting == "auto" else int(setting)


def batch_size(setting: int | str, net: Network, layer: ConvLayer, size: int, memory_bytes: int) -> int:
    """Filters per batch: under 'auto', how many fit in a quarter of ``memory_bytes``, from the
    activations kept per item.

    Per item the backward pass keeps every layer's input and output up to the target (about
    four float32 tensors per conv); the estimate is deliberately loose, then capped.
    """
    if setting != "auto":
        return int(setting)
    kept = [net.layers[i] for i in layer.upstream] + [layer]
    per_item = sum(4 * 4 * (size // l.stride) ** 2 * l.filters for l in kept)
    return int(max(1, min(MAX_BATCH, memory_bytes // 4 // per_item)))
