"""The static atlas: Jinja templates over the per-filter records, relative links only.

Pages: ``index.html`` (the network as a map of its 13 conv layers), ``layers/{layer}.html``
(every filter as a lazy-loaded tile), ``filters/{layer}/{filter:04d}.html`` (one filter, a
permanent URL beside its PNG and JSON). One job renders one layer's pages
(:func:`render_layer`), so a layer's pages are redone only when that layer changes; another
renders the network page and what is shared (:func:`render_network`). Every link is relative
to the page, so the folder works from ``file://`` and under a GitHub Pages sub-path alike; no
CDN, no request leaves the site. Autoescaping is on: text from the config is data, never markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import methods
from ..config import settings
from ..config.selection import ranges
from ..errors import AtlasError
from ..images.bands import Bands
from ..measure import measures, scorecard, trust, twins
from . import metrics
from ..model.builtins import BUILT_IN
from ..model.description import ConvLayer, Network
from ..output import layout
from ..output.record import TILE, Caricature, FilterExamples, FilterRecord, Trust

TEMPLATES = Path(__file__).resolve().parents[2] / "site_templates"
TEMPLATE_STATIC = ("atlas.css", "atlas.js", "favicon.svg")


@dataclass
class LayerPage:
    layer: ConvLayer
    filters: list[FilterRecord] = field(default_factory=list)
    twins: list[dict] = field(default_factory=list)  # measure/twins.py's pairs, as JSON

    @property
    def dead(self) -> int:
        return sum(1 for f in self.filters if f.dead)

    @property
    def silent(self) -> int:
        return sum(1 for f in self.filters if f.silent)

    @property
    def with_twins(self) -> int:
        """Rendered filters with at least one rotation or mirror twin."""
        return len({t["filter"] for t in self.twins})


def _read_json(path: str) -> dict | None:
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def _record(path: str) -> FilterRecord:
    if not Path(path).exists():
        raise AtlasError(f"pages: {path} is missing; render the filters first "
                         "(snakemake, or python -m pipeline ascend)")
    return FilterRecord.read(path)


def curve_points(curve: list, width: int = 320, height: int = 120, pad: int = 4) -> str:
    """SVG polyline points of the activation climb, scaled into the box."""
    steps = [s for s, _ in curve]
    values = [v for _, v in curve]
    lo, hi = min(values), max(values)
    span_v, span_s = (hi - lo) or 1.0, (max(steps) - min(steps)) or 1
    return " ".join(
        f"{pad + (s - min(steps)) / span_s * (width - 2 * pad):.1f},"
        f"{height - pad - (v - lo) / span_v * (height - 2 * pad):.1f}" for s, v in curve)


def search_index(net: Network, filters: dict[str, list[int]]) -> str:
    """A script, not JSON: browsers refuse fetch() on file:// but load <script src> fine."""
    data = {"layers": {name: {"filters": net.layer(name).filters, "rendered": ranges(fs)}
                       for name, fs in filters.items()},
            "filter_page": layout.FILTER_PAGE_URL}
    return "window.ATLAS_INDEX = " + json.dumps(data, sort_keys=True) + ";\n"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x: f"{x:,}"
    # Every path a page links to comes from the layout, with the page's way back to the
    # site's root as the folder: layout.filter_png("../..", layer, 7) is a relative URL.
    env.globals["layout"] = layout
    env.globals["passes"] = scorecard.passes
    env.globals["reference"] = scorecard.reference
    env.globals["human"] = trust.HUMAN
    env.globals["verdicts"] = trust.VERDICTS
    env.globals["min_pool"] = trust.MIN_POOL
    env.globals["others_at_most"] = trust.OTHERS
    env.globals["trust_measures"] = measures.MEASURES
    env.globals["metric_columns"] = metrics.COLUMNS
    env.globals["twin_threshold"], env.globals["twin_selective"] = twins.THRESHOLD, twins.SELECTIVE
    env.globals["setting"] = setting
    env.globals["bin_counts"] = bin_counts
    env.globals["built_in"] = BUILT_IN  # a shipped network's own words (its entry), by name
    return env


def setting(value) -> str:
    """A knob as people read it: 0.5, 8, [0.9, 1.1] -> "0.9 to 1.1", mean."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{setting(value[0])} to {setting(value[1])}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def cite(base_url: str | None, layer: str, index: int) -> str:
    """A filter page's address: a full URL where the site knows its own, else its path in the site."""
    path = layout.filter_page("", layer, index)[1:]
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def render_layer(p: settings.Pages) -> Path:
    """One layer's page and the page of each of its filters; the layer page is written last."""
    env = environment()
    found = _read_json(layout.twins_json(p.outdir, p.layer)) or {"twins": []}
    net = p.weights.network()
    page = LayerPage(net.layer(p.layer), [_record(layout.filter_json(p.outdir, p.layer, f)) for f in p.filters],
                     found["twins"])
    rendered = {p.layer: set(p.filters), **{name: set(fs) for name, fs in p.neighbours.items()}}
    used_by: dict[int, list[str]] = {}
    for d in p.dreams:
        for f in d.filters:
            used_by.setdefault(f, []).append(d.name)
    common = {"title": p.title, "extra_pages": p.extra_pages, "network": net,
              "comparison": methods.get(methods.COMPARISON), "bands": Bands.of(net.channels, p.weights.photo_bands)}
    scores = {rec.filter: _trust(p, rec.filter) for rec in page.filters}
    tpl = env.get_template("filter.html")
    for i, rec in enumerate(page.filters):
        classic = _read_json(layout.classic_json(p.outdir, p.layer, rec.filter)) if p.compare_classic else None
        found = layout.example_files(p.outdir, p.layer, rec.filter)[1]
        examples = FilterExamples.read(found) if p.examples and Path(found).exists() else None
        drawn = layout.caricature_files(p.outdir, p.layer, rec.filter)[2]
        caricature = Caricature.read(drawn) if p.caricatures and Path(drawn).exists() else None
        html = tpl.render(root="../..", page=page, f=rec, method=methods.REGISTRY.get(rec.method), classic=classic,
                          curve=curve_points(rec.curve),
                          twins=twins_of(page.twins, rec.filter), rendered=rendered,
                          examples=examples, caricature=caricature, tile=TILE,
                          trust=scores[rec.filter], trusted=trust.verdict(scores[rec.filter]),
                          verdict=verdict(rec, scores[rec.filter]),
                          path=path_points(scores[rec.filter]),
                          dreams=used_by.get(rec.filter, []), cite=cite(p.base_url, p.layer, rec.filter),
                          prev=page.filters[i - 1] if i else None,
                          next=page.filters[i + 1] if i + 1 < len(page.filters) else None, **common)
        layout.write_text(layout.filter_page(p.outdir, p.layer, rec.filter), html)
    marks = {rec.filter: crosses(rec, scores[rec.filter]) for rec in page.filters}
    layout.write_json(layout.layer_summary(p.outdir, p.layer),
                      {"layer": p.layer, "rendered": len(page.filters), "dead": page.dead,
                       "silent": page.silent, "with_twins": page.with_twins, "twin_pairs": len(page.twins),
                       "crossed": sum(1 for m in marks.values() if m), "trust": distribution(scores.values())})
    html = env.get_template("layer.html").render(root="..", page=page, marks=marks, examples=p.examples,
                                                 scores=scores, **common)
    return layout.write_text(layout.layer_page(p.outdir, p.layer), html)


def twins_of(found: list[dict], f: int) -> list[tuple[int, list[tuple[str, float]]]]:
    """Filter ``f``'s twins, one line each: a filter that answers both quarter turns of a picture
    that looks the same half turned is one twin, seen twice."""
    seen: dict[int, list[tuple[str, float]]] = {}
    for t in found:
        if t["filter"] == f:
            seen.setdefault(t["twin"], []).append((t["transform"].replace("rotated ", "turned "), t["ratio"]))
    return sorted(seen.items(), key=lambda item: -max(r for _, r in item[1]))


def crosses(rec: FilterRecord, t: Trust | None) -> list[str]:
    """Why a tile is crossed: each measure its picture fails, with the reference it failed
    against (a tile's hover says it)."""
    out = [f"{name} ({reference_words(rec, name)})" for name in scorecard.fails(rec.scorecard)]
    if trust.verdict(t) == "worse":
        out.append(f"trust (specific score {t.specific.mis:.2f}, at most {t.specific.high:.2f} in its interval; "
                   f"reference: the layer's other pictures score {t.null.median:.2f} here)")
    return out


def reference_words(rec: FilterRecord, measure: str) -> str:
    card = rec.scorecard
    shown = {"strength": f"{card.strength:.2f}×", "robustness": f"keeps {card.robustness:.0%}",
             "spectral share": f"{card.spectral_share:.3f}"}[measure]
    return f"{shown}; reference: {scorecard.reference(card, measure)}"


def _trust(p: settings.Pages, f: int) -> Trust | None:
    path = layout.trust_json(p.outdir, p.layer, f)
    return Trust.read(path) if p.trust and Path(path).exists() else None


def verdict(rec: FilterRecord, t: Trust | None) -> str:
    """The scorecard's verdict with what the trust scores say (``trust.VERDICTS``)."""
    words = [rec.scorecard.verdict] if rec.scorecard else []
    key = trust.verdict(t)
    return "; ".join(words + ([trust.VERDICTS[key]] if key else []))


def path_points(t: Trust | None, width: int = 320, height: int = 120) -> dict | None:
    """SVG polylines of the processing path, picture and baseline, on a -1..1 scale."""
    if t is None or len(t.path_curve) < 2:  # a first layer's path is one point: nothing to draw
        return None
    n = max(1, len(t.path_curve) - 1)

    def line(values):
        return " ".join(f"{i / n * width:.1f},{(1 - v) / 2 * height:.1f}" for i, v in enumerate(values))
    return {"picture": line([p.picture for p in t.path_curve]), "natural": line([p.natural for p in t.path_curve]),
            "layers": [p.layer for p in t.path_curve]}


def distribution(scores) -> dict:
    """A layer's specific scores, natural and synthetic MIS and path, filter by filter, and how
    many pictures each trust verdict went to, for the network page."""
    got = [t for t in scores if t is not None]
    verdicts: dict[str, int] = {}
    for t in got:
        verdicts[trust.verdict(t)] = verdicts.get(trust.verdict(t), 0) + 1
    return {**{m.name: [m.score(t) for t in got if m.score(t) is not None] for m in measures.MEASURES},
            "kind": sorted({t.synthetic_kind for t in got}), "verdicts": verdicts}


def bin_counts(values: list[float], bins: int = 10) -> list[int]:
    """How many of ``values`` fall in each of ``bins`` equal bins of 0..1 (the network page's
    histograms; 1 in the last)."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    return counts


def skipped_images(outdir: str | Path, layers) -> tuple[str, dict[str, str]]:
    """The examples folder and the files of it the examples job could not read, with why (the
    latest scan of ``layers`` that found any; earlier manifests name the files without why)."""
    source, found = "", {}
    for name in layers:
        manifest = _read_json(layout.examples_manifest(outdir, name)) or {}  # none without examples
        why = manifest.get("skipped_why", {})
        for image in manifest.get("skipped", []):
            found[image] = why.get(image, "it could not be read as an image")
        source = source or (manifest.get("source", "") if found else "")
    return source, found


def render_network(s: settings.Site) -> Path:
    """The network page, the dreams and classes pages, the search index and the static files."""
    env = environment()
    out = Path(s.outdir)
    summaries = {name: _read_json(layout.layer_summary(out, name)) for name in s.filters}
    # Run by hand (python -m pipeline site), a dream or class not rendered yet is left out.
    dreams = [d for d in (_read_json(layout.dream_files(out, name)[2]) for name in s.dreams) if d]
    classes = [c for c in (_read_json(layout.class_files(out, name)[1]) for name in s.classes) if c]
    rendered = {(name, f) for name, fs in s.filters.items() for f in fs}
    net = s.weights.network()
    common = {"title": s.title, "extra_pages": layout.extra_pages(bool(dreams), bool(classes)),
              "network": net, "bands": Bands.of(net.channels, s.weights.photo_bands)}
    for name in TEMPLATE_STATIC:
        layout.write_text(out / "static" / name, (TEMPLATES / name).read_text())
    layout.write_text(out / "static" / "atlas-index.js", search_index(net, s.filters))
    if dreams:
        layout.write_text(out / "dreams.html", env.get_template("dreams.html").render(
            root=".", dreams=dreams, rendered=rendered, **common))
    if classes:
        layout.write_text(out / "classes.html", env.get_template("classes.html").render(
            root=".", classes=classes, **common))
    layout.write_text(out / layout.GUIDE, env.get_template("trust.html").render(root=".", **common))
    html = env.get_template("index.html").render(root=".", summaries=summaries,
                                                 skipped=skipped_images(out, s.filters), **common)
    layout.write_json(layout.site_manifest(out), {"title": s.title, "layers": list(s.filters),
                                                  "dreams": [d["name"] for d in dreams],
                                                  "classes": [c["name"] for c in classes]})
    return layout.write_text(out / "index.html", html)
