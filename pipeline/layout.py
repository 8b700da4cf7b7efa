"""The public output layout, and atomic writes so no final path ever holds a partial file.

    {outdir}/filters/{layer}/{filter:04d}.png   the image that excites the filter most
    {outdir}/filters/{layer}/{filter:04d}.json  what the ascent measured, and how it was run
    {outdir}/grids/{layer}.png                  the layer's filters stitched, in filter order
    {outdir}/index.html                         the atlas
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def filter_png(outdir, layer: str, index: int) -> str:
    return f"{outdir}/filters/{layer}/{index:04d}.png"


def filter_json(outdir, layer: str, index: int) -> str:
    return f"{outdir}/filters/{layer}/{index:04d}.json"


def grid_png(outdir, layer: str) -> str:
    return f"{outdir}/grids/{layer}.png"


def _atomic(path: str | Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def write_png(path: str | Path, image: np.ndarray) -> Path:
    from PIL import Image

    return _atomic(path, lambda fh: Image.fromarray(image).save(fh, format="PNG", optimize=True))


def write_json(path: str | Path, data: dict) -> Path:
    text = json.dumps(data, sort_keys=True) + "\n"
    return _atomic(path, lambda fh: fh.write(text.encode()))


def write_text(path: str | Path, text: str) -> Path:
    return _atomic(path, lambda fh: fh.write(text.encode()))


def read_png(path: str | Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
