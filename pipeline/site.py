"""The static atlas: Jinja templates over the per-filter JSON, relative links only.

Every page links with paths relative to itself, so the folder works from ``file://`` and
under a GitHub Pages sub-path alike. Autoescaping is on: config text (the title) is data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import layout
from .config import selection
from .vgg16 import BY_NAME, ConvLayer

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"


@dataclass
class LayerPage:
    layer: ConvLayer
    filters: list[dict] = field(default_factory=list)

    @property
    def dead(self) -> int:
        return sum(1 for f in self.filters if f["dead"])


def collect(cfg: dict) -> list[LayerPage]:
    pages = []
    for name, indices in selection(cfg).items():
        page = LayerPage(BY_NAME[name])
        for index in indices:
            with open(layout.filter_json(cfg["outdir"], name, index)) as fh:
                page.filters.append(json.load(fh))
        pages.append(page)
    return pages


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def page_paths(cfg: dict) -> list[str]:
    """Every file :func:`render` writes, for Snakemake's ``output:``."""
    out = cfg["outdir"]
    return ([f"{out}/index.html", f"{out}/static/atlas.css"]
            + [f"{out}/layers/{name}.html" for name in cfg["layers"]])


def render(cfg: dict) -> list[Path]:
    env = environment()
    out = Path(cfg["outdir"])
    pages = collect(cfg)
    common = {"title": cfg["title"], "cfg": cfg}
    written = [layout.write_text(out / "index.html",
                                 env.get_template("index.html").render(root=".", layers=pages, **common)),
               layout.write_text(out / "static" / "atlas.css", (TEMPLATES / "atlas.css").read_text())]
    for page in pages:
        html = env.get_template("layer.html").render(root="..", page=page, **common)
        written.append(layout.write_text(out / "layers" / f"{page.layer.name}.html", html))
    return written
