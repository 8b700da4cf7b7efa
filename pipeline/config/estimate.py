"""How long an atlas takes, from its arithmetic: FLOPs counted from the network, over a rate.

A step costs about twice the forward pass up to the target layer (the forward, then the
gradient with respect to the input; no weight gradients). The ``fourier`` method's image is
padded before the network sees it, so it pays for ``size + 2 * pad`` pixels a side.
"""

from __future__ import annotations

from ..model.vgg16 import flops_to
from . import recipes

CPU_FLOPS_PER_CORE = 95e9  # float32, measured on the 2-core build machine at depth (190 GFLOP/s)


def ascent_flops(layer: str, steps: int, side: int) -> float:
    return 2.0 * flops_to(layer, side) * steps


def chunk_flops(cfg: dict, layer: str, filters: int) -> float:
    """Executed FLOPs of one ascent job: ``filters`` of ``layer``, and their classic comparison."""
    steps, fourier = recipes.for_layer(cfg, layer)
    pad = fourier["pad"] if cfg["method"] == "fourier" else 0
    total = filters * cfg["diversity"] * ascent_flops(layer, steps, cfg["size"] + 2 * pad)
    if cfg["compare_classic"]:
        total += filters * ascent_flops(layer, recipes.default_steps("classic"), cfg["size"])
    return total


def atlas_flops(cfg: dict) -> float:
    """Executed FLOPs of every ascent the checked config asks for (the classic comparison too)."""
    return sum(chunk_flops(cfg, layer, len(filters)) for layer, filters in cfg["filters"].items())


def duration(seconds: float) -> str:
    """A time as people say it: seconds up to 2 minutes, minutes up to 2 hours, then hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def on_cpu(cfg: dict, cores: int) -> str:
    return duration(atlas_flops(cfg) / (CPU_FLOPS_PER_CORE * max(1, cores)))
