"""What every ``auto`` setting means: the one place it is resolved.

``steps`` and the ``fourier.*`` settings follow the layer's schedule; ``chunk_size`` is a whole
layer; ``batch_size`` is what fits in the memory the job finds; ``precision`` is bfloat16 where
the job's processor computes it natively (decided by the job: ``jobs/common.py``), but at the
depths :func:`auto_float32` names. A layer's depth is relative (0 the first conv, 1 the last),
so that any network's layers find their recipe; VGG16's blocks resolve as they were tuned.
Every recipe number lives in
:data:`RECIPES` and nowhere else: the schema's descriptions and docs/configuration.md name them
from here.
"""

from __future__ import annotations

from ..model.description import ConvLayer, Network

# What 'auto' means for steps and for the fourier settings, per schedule. 'lucid' is Lucid's
# recipe, the atlas default until 0.2. The default, schedule 'auto', reaches 90% of its
# activation or more in a quarter of its time at every block (bench/convergence.py,
# docs/benchmarks.md): 'cosine' in VGG16's blocks 1-4; 'wsd' in block 5 (the last fifth of the
# network), where cosine reaches 83%.
# wsd's finer spectrum (cutoff) would put high-frequency noise into blocks 1-4's pictures.
RECIPES = {
    "cosine": {"steps": 160, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.22, "jitter": 8, "rotate": 10},
    "wsd": {"steps": 150, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.27, "jitter": 12, "rotate": 15},
    "lucid": {"steps": 512, "lr": 0.05, "pad": 12, "canvas": "reflect", "cutoff": 0.22, "jitter": 8, "rotate": 10},
}
CLASSIC_STEPS = 20  # Chollet 2016's
DEEP = 0.8  # relative depth from which 'auto' runs DEEP_SCHEDULE: VGG16's block 5 (10/12 and on)
DEEP_SCHEDULE = "wsd"
DEFAULT_SCHEDULE = "cosine"
SHALLOW = 0.1  # relative depth up to which a layer is memory-bound: VGG16's block 1 (0 and 1/12)
MAX_BATCH = 256


def auto_float32(depth: float) -> bool:
    """Whether ``precision: auto`` keeps float32 at a layer's relative ``depth`` although the
    processor computes bfloat16 (bench/precision.py, docs/speed.md): from :data:`DEEP` (VGG16's
    block 5), where bfloat16's pictures moved robustness by up to 0.045 against float32's (the
    guard allows 0.03); up to :data:`SHALLOW` (block 1), which is memory-bound, so bfloat16 is
    no faster there (0.97x)."""
    return depth <= SHALLOW or depth >= DEEP


def schedule(name: str, depth: float | None) -> str:
    """The schedule a layer runs: ``auto`` is 'wsd' from :data:`DEEP` on and 'cosine' before
    it. The class logits (``depth`` None) keep 'cosine': wsd, tuned on block 5's filters,
    overshoots them (a class's probability fell from above 0.99 to nothing in 24 steps)."""
    if name != "auto":
        return name
    return DEEP_SCHEDULE if depth is not None and depth >= DEEP else DEFAULT_SCHEDULE


def default_steps(method: str, schedule: str | None = None) -> int:
    return CLASSIC_STEPS if method == "classic" else RECIPES[schedule]["steps"]


def for_layer(cfg: dict, layer: str | None) -> tuple[int, dict]:
    """A layer's steps and fourier settings, each 'auto' replaced by its schedule's value."""
    depth = cfg["network"].depth(layer) if layer else None
    fourier = {**cfg["fourier"], "schedule": schedule(cfg["fourier"]["schedule"], depth)}
    own = RECIPES[fourier["schedule"]]
    fourier.update({key: own[key] for key, value in fourier.items() if value == "auto"})
    steps = default_steps(cfg["method"], fourier["schedule"]) if cfg["steps"] == "auto" else cfg["steps"]
    return steps, fourier


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
