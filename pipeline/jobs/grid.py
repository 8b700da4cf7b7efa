"""The grid job: a layer's contact sheet, plus the small WebP copies the site's pages load."""

from __future__ import annotations

from pathlib import Path

from ..config import settings
from ..errors import AtlasError
from ..output import layout
from ..output.record import FilterRecord
from ..site import grid

THUMB = 96          # px: a layer page's tiles
GRID_PREVIEW = 720  # px wide: the network page's preview of each grid


def stitch_grid(g: settings.Grid) -> Path:
    missing = [f for f in g.filters if not Path(layout.filter_png(g.outdir, g.layer, f)).exists()]
    if missing:
        raise AtlasError(f"grid: {layout.filter_png(g.outdir, g.layer, missing[0])} is missing "
                         f"({len(missing)} of {len(g.filters)}); render the filters first (delete "
                         f"{layout.chunk_manifest(g.outdir, g.layer, '*')} if you removed images by hand)")
    images = [layout.read_png(layout.filter_png(g.outdir, g.layer, f)) for f in g.filters]
    records = [FilterRecord.read(layout.filter_json(g.outdir, g.layer, f)) for f in g.filters]
    dead = [r.dead or r.silent for r in records]  # a picture its filter does not answer
    sheet = grid.stitch(images, [str(f) for f in g.filters], g.tile, g.columns, dead)
    for f, image in zip(g.filters, images):
        # a picture of several panels (more than three bands) keeps a tile per panel
        layout.write_webp(layout.filter_thumb(g.outdir, g.layer, f), image, THUMB * round(image.shape[1] / image.shape[0]))
    layout.write_webp(layout.grid_thumb(g.outdir, g.layer), sheet, GRID_PREVIEW)
    return layout.write_png(layout.grid_png(g.outdir, g.layer), sheet)
