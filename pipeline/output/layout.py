"""The public output layout, and atomic writes so no final path ever holds a partial file.

    {outdir}/filters/{layer}/{filter:04d}.png   the image that excites the filter most
    {outdir}/filters/{layer}/{filter:04d}.json  what the ascent measured, and how it was run
    {outdir}/filters/{layer}/{filter:04d}.html  the filter's page (a permanent URL)
    {outdir}/classic/{layer}/{filter:04d}.png   classic (Chollet 2016), for comparison
    {outdir}/manifests/ascend/{layer}-{first:04d}.json   what one ascent job wrote
    {outdir}/dreams/{name}.png, .original.png, .json   a photo dreamed with chosen filters
    {outdir}/classes/{name}.png, .json          a class output maximised (full VGG16 only)
    {outdir}/grids/{layer}.png                  the layer's filters stitched, in filter order
    {outdir}/thumbs/...webp                     small copies the pages load
    {outdir}/layers/{layer}.html                a layer's page
    {outdir}/index.html                         the atlas
    {outdir}/logs/, benchmarks/                 per-job logs and Snakemake benchmark files
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import AtlasError


def _n(index: int | str) -> str:
    """A filter index as it appears in file names (0007), or a Snakemake wildcard as it is."""
    return f"{index:04d}" if isinstance(index, int) else index


def filter_png(outdir, layer: str, index: int) -> str:
    return f"{outdir}/filters/{layer}/{_n(index)}.png"


def filter_json(outdir, layer: str, index: int) -> str:
    return f"{outdir}/filters/{layer}/{_n(index)}.json"


def rendered_filters(outdir, layer: str) -> list[int]:
    """The filters of ``layer`` whose record is in the atlas (a record means its images are complete)."""
    found = Path(filter_json(outdir, layer, 0)).parent.glob("[0-9][0-9][0-9][0-9].json")
    return sorted(int(p.stem) for p in found)


def filter_page(outdir, layer: str, index: int) -> str:
    return f"{outdir}/filters/{layer}/{_n(index)}.html"


# The filter page's URL inside the site, for the page script's search (``{filter}`` is padded
# to four digits there); written into the search index so the script never spells it out.
FILTER_PAGE_URL = "filters/{layer}/{filter}.html"


def diverse_png(outdir, layer: str, index: int, k: int) -> str:
    """The k-th extra image of a filter rendered with diversity (k = 1 .. K-1)."""
    return f"{outdir}/filters/{layer}/{_n(index)}.div{k}.png"


def transparency_png(outdir, layer: str, index: int) -> str:
    """The picture with its transparency map as its alpha (methods that keep one: maco)."""
    return f"{outdir}/filters/{layer}/{_n(index)}.alpha.png"


def negative_png(outdir, layer: str, index: int) -> str:
    """The negative picture: the filter's activation minimised (the ``negative`` setting)."""
    return f"{outdir}/filters/{layer}/{_n(index)}.negative.png"


def classic_png(outdir, layer: str, index: int) -> str:
    return f"{outdir}/classic/{layer}/{_n(index)}.png"


def classic_json(outdir, layer: str, index: int) -> str:
    return f"{outdir}/classic/{layer}/{_n(index)}.json"


# ``main`` is the atlas' own method; ``classic`` the comparison render beside it.
RENDERS = {"main": (filter_png, filter_json), "classic": (classic_png, classic_json)}


def render_files(outdir, render: str, layer: str, index: int) -> tuple[str, str]:
    """(png, json) of one filter of one render."""
    png, meta = RENDERS[render]
    return png(outdir, layer, index), meta(outdir, layer, index)


def chunk_manifest(outdir, layer: str, first: int | str) -> str:
    """What one ascent job wrote; the job's only declared output (see rules/render.smk)."""
    return f"{outdir}/manifests/ascend/{layer}-{_n(first)}.json"


def dream_files(outdir, name: str) -> list[str]:
    """The dream, the photo it started from (resized as used), and its metadata."""
    return [f"{outdir}/dreams/{name}.png", f"{outdir}/dreams/{name}.original.png",
            f"{outdir}/dreams/{name}.json"]


def class_files(outdir, name: str) -> list[str]:
    return [f"{outdir}/classes/{name}.png", f"{outdir}/classes/{name}.json"]


def grid_png(outdir, layer: str) -> str:
    return f"{outdir}/grids/{layer}.png"


def grid_thumb(outdir, layer: str) -> str:
    return f"{outdir}/thumbs/{layer}.webp"


def filter_thumbs(outdir, layer: str) -> str:
    return f"{outdir}/thumbs/{layer}"


def filter_thumb(outdir, layer: str, index: int) -> str:
    return f"{filter_thumbs(outdir, layer)}/{_n(index)}.webp"


def example_files(outdir, layer: str, index: int) -> tuple[str, str]:
    """A filter's dataset examples: the mosaic of crops and its JSON."""
    return f"{outdir}/examples/{layer}/{_n(index)}.webp", f"{outdir}/examples/{layer}/{_n(index)}.json"


def caricature_files(outdir, layer: str, index: int) -> tuple[str, str, str]:
    """(caricature PNG, the photo crop it started from, its JSON) of one filter."""
    base = f"{outdir}/caricatures/{layer}/{_n(index)}"
    return f"{base}.png", f"{base}.photo.png", f"{base}.json"


def caricatures_manifest(outdir, layer: str) -> str:
    """What one layer's caricatures job wrote; its declared output (see rules/measure.smk)."""
    return f"{outdir}/manifests/caricatures/{layer}.json"


def trust_json(outdir, layer: str, index: int) -> str:
    """A filter's trust scores (``measure/trust.py``)."""
    return f"{outdir}/trust/{layer}/{_n(index)}.json"


def trust_manifest(outdir, layer: str) -> str:
    """What one layer's trust job wrote; its declared output (see rules/measure.smk)."""
    return f"{outdir}/manifests/trust/{layer}.json"


def examples_manifest(outdir, layer: str) -> str:
    """What the examples job found for one layer, and with which settings; its declared output,
    one per layer, so that a layer added later is scanned alone (see rules/measure.smk)."""
    return f"{outdir}/manifests/examples/{layer}.json"


def twins_json(outdir, layer: str) -> str:
    """A layer's rotation twins (``measure/twins.py``), for its pages."""
    return f"{outdir}/manifests/twins/{layer}.json"


def site_manifest(outdir) -> str:
    """What the network page shows (its layers, dreams and classes): what ``publish`` publishes."""
    return f"{outdir}/manifests/site.json"


def metrics_csv(outdir) -> str:
    """Every filter's numbers, a row each (site/metrics.py): published with the site."""
    return f"{outdir}/metrics.csv"


def layer_page(outdir, layer: str) -> str:
    return f"{outdir}/layers/{layer}.html"


def layer_summary(outdir, layer: str) -> str:
    """What a layer's pages job tells the network page: filters rendered and dead."""
    return f"{outdir}/manifests/pages/{layer}.json"


STATIC = ("atlas.css", "atlas.js", "favicon.svg", "atlas-index.js")


def extra_pages(dreams: bool, classes: bool) -> list[str]:
    """The pages beside the network page, relative to the site's root."""
    return (["dreams.html"] if dreams else []) + (["classes.html"] if classes else [])


GUIDE = "trust.html"  # how to read the scorecard and the trust scores: every filter page links to it


def site_files(outdir, dreams: bool, classes: bool) -> list[str]:
    """The network page, the guide to the scores, the dreams and classes pages, and the static files."""
    return ([f"{outdir}/index.html", f"{outdir}/{GUIDE}"] + [f"{outdir}/{page}" for page in extra_pages(dreams, classes)]
            + [f"{outdir}/static/{name}" for name in STATIC])


MARKER = ".vgg16-atlas"  # what says "this project wrote this folder"


def is_atlas(outdir) -> bool:
    """Whether ``outdir`` is an atlas: marked, or with the job manifests earlier versions wrote."""
    return Path(outdir, MARKER).exists() or Path(outdir, "manifests", "ascend").is_dir()


def check_outdir(outdir) -> None:
    """One line when ``outdir`` holds someone's own files: an atlas never writes over them."""
    folder = Path(outdir)
    if folder.exists() and not folder.is_dir():
        raise AtlasError(f"config: outdir = {str(outdir)!r} is a file; expected a new or empty folder, or an atlas")
    mine = folder.is_dir() and any(folder.iterdir()) and not is_atlas(folder)
    if mine:
        some = ", ".join(sorted(p.name for p in folder.iterdir())[:3])
        raise AtlasError(f"config: outdir = {str(outdir)!r} holds files this pipeline did not write ({some}, ...); "
                         "expected a new or empty folder, or an existing atlas")


def claim(outdir) -> None:
    """Mark ``outdir`` as an atlas (before the first job writes into it)."""
    Path(outdir).mkdir(parents=True, exist_ok=True)
    if not Path(outdir, MARKER).exists():
        write_text(Path(outdir, MARKER), "Written by the VGG16 Atlas pipeline: reruns may write here.\n")


def checkpoint(outdir, layer: str, render: str, first: int | str) -> str:
    """An ascent batch's saved state (image parameters, optimiser), kept until its filters are
    written: a killed job resumes the batch from there."""
    return f"{outdir}/manifests/checkpoints/{layer}-{render}-{_n(first)}.npz"


def log(outdir, kind: str, name: str) -> str:
    return f"{outdir}/logs/{kind}/{name}.log"


def benchmark(outdir, kind: str, name: str) -> str:
    return f"{outdir}/benchmarks/{kind}/{name}.tsv"


_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic(path: str | Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; a site must be readable
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def write_png(path: str | Path, image: np.ndarray) -> Path:
    return _atomic(path, lambda fh: Image.fromarray(image).save(fh, format="PNG", optimize=True))


def write_webp(path: str | Path, image: np.ndarray, width: int | None = None) -> Path:
    """A small lossy copy for the pages; the PNG stays the reference."""
    img = Image.fromarray(image)
    if width and img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    return _atomic(path, lambda fh: img.save(fh, format="WEBP", quality=80, method=6))


def write_json(path: str | Path, data: dict) -> Path:
    text = json.dumps(data, sort_keys=True) + "\n"
    return _atomic(path, lambda fh: fh.write(text.encode()))


def write_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    return _atomic(path, lambda fh: np.savez(fh, **arrays))


def write_text(path: str | Path, text: str) -> Path:
    return _atomic(path, lambda fh: fh.write(text.encode()))


def read_png(path: str | Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
