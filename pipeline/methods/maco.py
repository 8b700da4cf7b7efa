"""maco (MaCo, Fel et al. 2023): only the Fourier phase is optimised, its magnitude held at
photos' own (``optvis/spectrum.py``: measured offline on scikit-image's photos or the examples
folder), with fourier's schedule, rate and moves. It also keeps the paper's transparency map:
where the ascent looked, saved as the picture's alpha."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..images import folder
from . import fourier
from .method import Method, pick, section_schema

if TYPE_CHECKING:  # the checked config, a layer above: its type only
    from ..config.checked import Config


@dataclass(frozen=True)
class Knobs(fourier.Shared):
    """``fourier.*``'s schedule, rate and moves, and ``maco.spectrum``."""

    spectrum: str      # skimage | a folder of images
    fingerprint: str   # the folder's listing, hashed: a changed folder reruns the pictures


class Maco(Method):
    name = "maco"
    source = "MaCo, Fel et al. 2023"
    summary = "only the Fourier phase is optimised, the magnitude held at natural images'; with the fourier schedule and moves"
    knobs_type = Knobs
    section = "maco"
    schema = section_schema("""
type: object
additionalProperties: false
default: {}
description: "settings of the maco method (its schedule, rate and moves are the fourier settings'): spectrum"
properties:
  spectrum: {enum: [skimage, examples], default: skimage,
             description: "where the natural magnitude spectrum comes from: 'skimage' (the 13 photos scikit-image ships, offline) or 'examples' (the examples folder's images)",
             $comment: "computed once per size and source and cached beside the weights (pipeline/optvis/spectrum.py)"}
""")

    def knobs(self, cfg: Config, depth: float | None) -> Knobs:
        source = cfg.examples if cfg.section("maco")["spectrum"] == "examples" else folder.SKIMAGE
        return pick(Knobs, {**vars(fourier.METHOD.knobs(cfg, depth)), "spectrum": source,
                            "fingerprint": folder.fingerprint(source)})

    def steps(self, knobs) -> int:
        return fourier.RECIPES[knobs.schedule]["steps"]

    def parts(self, knobs: Knobs, size: int, blocks, cache: Path):
        magnitude, _ = blocks.spectrum.natural(knobs.spectrum, knobs.fingerprint, size, cache)
        grey, _ = blocks.spectrum.natural(knobs.spectrum, knobs.fingerprint, size, cache, grey=True)
        return blocks.Parts(image=blocks.param.MacoImage(magnitude, grey),
                            optimiser=blocks.optimise.Adam(knobs.schedule, knobs.lr),
                            moves=fourier.moves(knobs, size, blocks), keeps_map=True)

    def check(self, cfg: Config) -> str | None:
        if cfg.section("maco")["spectrum"] == "examples" and cfg.examples in (folder.SKIMAGE, folder.NONE):
            return (f"config: maco.spectrum = 'examples' is not allowed with examples = {cfg.examples!r}; "
                    "expected examples to be a folder of images, or maco.spectrum = 'skimage'")
        return fourier.METHOD.check(cfg)


METHOD = Maco()
