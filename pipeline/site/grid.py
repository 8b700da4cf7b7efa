"""Per-layer contact sheets: every rendered filter as a labelled tile, in filter order."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LABEL_HEIGHT = 14
BACKGROUND = (24, 24, 24)
DEAD_MARK = (200, 40, 40)


def stitch(images: list[np.ndarray], labels: list[str], tile: int, columns: int,
           dead: list[bool] | None = None) -> np.ndarray:
    """Tiles ``tile`` px high, ``columns`` per row, each captioned; dead filters crossed out. A
    picture of several panels (a network with more than three bands: ``images/bands.py``) keeps
    its width, a tile per panel."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    dead = dead or [False] * len(images)
    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    wide = round(tile * images[0].shape[1] / images[0].shape[0]) if images else tile
    cell_w, cell_h = wide + 2, tile + LABEL_HEIGHT + 2
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11)
    for i, (img, label, is_dead) in enumerate(zip(images, labels, dead)):
        x, y = (i % columns) * cell_w + 1, (i // columns) * cell_h + 1
        thumb = Image.fromarray(img).resize((wide, tile), Image.LANCZOS)
        sheet.paste(thumb, (x, y))
        if is_dead:
            draw.line((x, y, x + wide - 1, y + tile - 1), fill=DEAD_MARK, width=2)
            draw.line((x, y + tile - 1, x + wide - 1, y), fill=DEAD_MARK, width=2)
        draw.text((x + wide / 2, y + tile + 1), label, fill=(220, 220, 220), font=font, anchor="mt")
    return np.asarray(sheet)
