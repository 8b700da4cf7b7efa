"""The static atlas: Jinja templates over the per-filter JSON, relative links only.

Pages: ``index.html`` (the network as a map of its 13 conv layers), ``layers/{layer}.html``
(every filter as a lazy-loaded tile), ``filters/{layer}/{filter:04d}.html`` (one filter, a
permanent URL beside its PNG and JSON). Every link is relative to the page, so the folder
works from ``file://`` and under a GitHub Pages sub-path alike; no CDN, no request leaves
the site. Autoescaping is on: text from the config (the title) is data, never markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import layout
from .config import selection
from .errors import AtlasError
from .vgg16 import BY_NAME, LAYERS, ConvLayer

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"
STATIC = ("atlas.css", "atlas.js", "favicon.svg")


@dataclass
class LayerPage:
    layer: ConvLayer
    filters: list[dict] = field(default_factory=list)

    @property
    def dead(self) -> int:
        return sum(1 for f in self.filters if f["dead"])


def _read(path: str) -> dict | None:
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def collect(cfg: dict) -> list[LayerPage]:
    out = cfg["outdir"]
    pages = []
    for name, indices in selection(cfg).items():
        page = LayerPage(BY_NAME[name])
        for index in indices:
            meta = _read(layout.filter_json(out, name, index))
            if meta is None:
                raise AtlasError(f"site: {layout.filter_json(out, name, index)} is missing; render "
                                 "the filters first (snakemake, or python -m pipeline ascend)")
            meta["classic"] = _read(layout.classic_json(out, name, index)) if cfg["compare_classic"] else None
            page.filters.append(meta)
        pages.append(page)
    return pages


def curve_points(curve: list, width: int = 320, height: int = 120, pad: int = 4) -> str:
    """SVG polyline points of the activation climb, scaled into the box."""
    steps = [s for s, _ in curve]
    values = [v for _, v in curve]
    lo, hi = min(values), max(values)
    span_v, span_s = (hi - lo) or 1.0, (max(steps) - min(steps)) or 1
    return " ".join(
        f"{pad + (s - min(steps)) / span_s * (width - 2 * pad):.1f},"
        f"{height - pad - (v - lo) / span_v * (height - 2 * pad):.1f}" for s, v in curve)


def ranges(indices: list[int]) -> str:
    """[0,1,2,5,7,8] -> '0-2,5,7-8': the search index stays small at 4,224 filters."""
    parts, start = [], None
    for i, v in enumerate(indices):
        if start is None:
            start = v
        if i + 1 == len(indices) or indices[i + 1] != v + 1:
            parts.append(f"{start}-{v}" if v != start else f"{v}")
            start = None
    return ",".join(parts)


def search_index(pages: list[LayerPage]) -> str:
    """A script, not JSON: browsers refuse fetch() on file:// but load <script src> fine."""
    data = {p.layer.name: {"filters": p.layer.filters, "rendered": ranges([f["filter"] for f in p.filters])}
            for p in pages}
    return "window.ATLAS_INDEX = " + json.dumps(data, sort_keys=True) + ";\n"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pad4"] = lambda n: f"{int(n):04d}"
    env.filters["num"] = lambda x: f"{x:,}"
    return env


def filter_page_path(outdir, layer_name: str, index: int) -> str:
    return f"{outdir}/filters/{layer_name}/{index:04d}.html"


def extra_pages(cfg: dict) -> list[str]:
    return (["dreams.html"] if cfg["dreams"] else []) + (["classes.html"] if cfg["classes"] else [])


def page_paths(cfg: dict) -> list[str]:
    """Every file :func:`render` writes, for Snakemake's ``output:``."""
    out = cfg["outdir"]
    return ([f"{out}/index.html"] + [f"{out}/{name}" for name in extra_pages(cfg)]
            + [f"{out}/static/{name}" for name in STATIC + ("atlas-index.js",)]
            + [f"{out}/layers/{name}.html" for name in cfg["layers"]]
            + [filter_page_path(out, name, f) for name, fs in selection(cfg).items() for f in fs])


def dreams_by_filter(dreams: list[dict]) -> dict[tuple[str, int], list[str]]:
    """(layer, filter) -> names of the dreams that used it, for links back from filter pages."""
    index: dict[tuple[str, int], list[str]] = {}
    for d in dreams:
        for f in d["filters"]:
            index.setdefault((d["layer"], f), []).append(d["name"])
    return index


def render(cfg: dict) -> list[Path]:
    env = environment()
    out = Path(cfg["outdir"])
    pages = collect(cfg)
    dreams = [_read(layout.dream_files(out, d["name"])[2]) for d in cfg["dreams"]]
    classes = [_read(layout.class_files(out, c["name"])[1]) for c in cfg["classes"]]
    rendered = {(p.layer.name, f["filter"]) for p in pages for f in p.filters}
    used_by = dreams_by_filter(dreams)
    common = {"title": cfg["title"], "cfg": cfg, "network": LAYERS, "extra_pages": extra_pages(cfg),
              "rendered": rendered}
    written = [layout.write_text(out / "static" / name, (TEMPLATES / name).read_text()) for name in STATIC]
    written.append(layout.write_text(out / "static" / "atlas-index.js", search_index(pages)))
    written.append(layout.write_text(out / "index.html", env.get_template("index.html").render(
        root=".", layers=pages, by_name={p.layer.name: p for p in pages}, **common)))
    if dreams:
        written.append(layout.write_text(out / "dreams.html", env.get_template("dreams.html").render(
            root=".", dreams=dreams, **common)))
    if classes:
        written.append(layout.write_text(out / "classes.html", env.get_template("classes.html").render(
            root=".", classes=classes, **common)))
    layer_tpl, filter_tpl = env.get_template("layer.html"), env.get_template("filter.html")
    for page in pages:
        html = layer_tpl.render(root="..", page=page, **common)
        written.append(layout.write_text(out / "layers" / f"{page.layer.name}.html", html))
        for i, meta in enumerate(page.filters):
            html = filter_tpl.render(
                root="../..", page=page, f=meta, curve=curve_points(meta["curve"]),
                dreams=used_by.get((page.layer.name, meta["filter"]), []),
                prev=page.filters[i - 1] if i else None,
                next=page.filters[i + 1] if i + 1 < len(page.filters) else None, **common)
            written.append(layout.write_text(filter_page_path(out, page.layer.name, meta["filter"]), html))
    return written
