"""The trust job: each filter's specific score against its layer's other pictures, its MIS,
natural and synthetic, and its processing path (``measure/trust.py``), from the pictures the
ascent jobs drew and the pool the examples job kept. New images rerun it and the pages, never
an ascent. Also the scorer for any picture:
``python -m pipeline trust --outdir ATLAS LAYER FILTER IMAGE...``."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import settings
from ..errors import AtlasError
from ..images import folder, photos
from ..images.bands import Bands
from ..measure import interpretability
from ..measure.lpips import LPIPS, Similarity
from ..measure.measures import MEASURES
from ..model import weights
from ..model.builtins import LPIPS_BACKBONE
from ..output import layout
from ..output.record import FilterExamples, FilterRecord, Trust
from .common import Terminal, preflight, say


def _scorer(t: settings.Trust):
    pre = preflight(t.runtime)
    base = pre.base()
    # LPIPS measures with VGG16 on torchvision's weights, whatever network the atlas studies.
    w = t.runtime.weights
    same = t.similarity == LPIPS and w.name == weights.DEFAULT and w.model == LPIPS_BACKBONE
    similarity = Similarity(t.similarity, weights.cache_dir(w.cache), base if same else None)
    return pre, interpretability.Scorer(base, pre.network, t.layer, pre.weights.preprocess, similarity, pre.bands)


def _examples(t: settings.Trust, f: int) -> tuple[FilterExamples, int]:
    """A filter's examples and how many images the examples job measured."""
    meta = layout.example_files(t.outdir, t.layer, f)[1]
    if not Path(meta).exists():
        raise AtlasError(f"trust: {meta} is missing; find the dataset examples first "
                         "(snakemake, or python -m pipeline examples)")
    manifest = json.loads(Path(layout.examples_manifest(t.outdir, t.layer)).read_text())
    return FilterExamples.read(meta), int(manifest["images"])


def _pictures(t: settings.Trust, rec: FilterRecord, bands: Bands) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A filter's pictures and negative pictures, in the network's bands."""
    png = Path(layout.filter_png(t.outdir, t.layer, rec.filter))
    def read(path) -> np.ndarray:  # the PNG shows the bands; read back exactly
        return bands.unshown(layout.read_png(path))
    pictures = [read(png)] + [read(png.with_name(n)) for n in rec.diversity]
    negatives = [read(png.with_name(rec.negative))] if rec.negative else []
    return pictures, negatives


def _prepared(t: settings.Trust, scorer, found: FilterExamples) -> interpretability.Loader:
    """The layer's image loader, and the scorer calibrated on the examples' photos (the same
    random patches for the job and for the command line; never an image the examples job
    could not read)."""
    lyr = scorer.lyr
    loader = interpretability.Loader(found.source, found.side, lyr, say, scorer.bands)
    manifest = json.loads(Path(layout.examples_manifest(t.outdir, t.layer)).read_text())
    skipped = set(manifest.get("skipped", []))
    names = [s.name for s in folder.sources(found.source)[0] if s.name not in skipped]
    scorer.calibrate(loader, names, [t.seed, 401, lyr.index])
    return loader


def _layer(t: settings.Trust, scorer, indices: list[int], pictures: list[np.ndarray],
           size: int) -> interpretability.Layer:
    """The layer's comparison set (``indices``, their ``pictures``) and grey noise, embedded."""
    return interpretability.Layer(indices, scorer.embed(pictures),
                                  scorer.embed([interpretability.grey_noise(size, scorer.bands.count)]), scorer.embed([]))


def score_layer(t: settings.Trust) -> Path:
    t0 = time.time()
    pre, scorer = _scorer(t)
    lyr = scorer.lyr
    terminal = Terminal()  # the log, and about once a minute the terminal
    terminal.say(f"trust: {t.layer}, {len(t.filters)} filters, similarity {t.similarity}, on {pre.where}")
    drawn = {f: _pictures(t, FilterRecord.read(layout.filter_json(t.outdir, t.layer, f)), pre.bands) for f in t.filters}
    indices = interpretability.comparison_set(t.filters, [t.seed, 402, lyr.index])
    first = drawn[t.filters[0]][0][0]
    layer = _layer(t, scorer, indices, [drawn[g][0][0] for g in indices], first.shape[0])
    loader, said = None, time.perf_counter()
    for done, f in enumerate(t.filters, 1):
        began = time.perf_counter()
        found, images = _examples(t, f)
        loader = loader or _prepared(t, scorer, found)
        pictures, negatives = drawn[f]
        own = replace(layer, negatives=scorer.embed(negatives))
        got = scorer.score(loader.pool(found, images), pictures, own, {f}, [t.seed, 400, lyr.index, f])
        Trust(t.layer, f, t.similarity, found.source, **got,
              seconds=round(time.perf_counter() - began, 4)).write(layout.trust_json(t.outdir, t.layer, f))
        if time.perf_counter() - said > 10 or done == len(t.filters):
            said = time.perf_counter()
            terminal.write(f"trust: {t.layer}: {done}/{len(t.filters)} filters; filter {f}: {summary(got)}\n",
                           always=done == len(t.filters))
    return layout.write_json(layout.trust_manifest(t.outdir, t.layer), {
        "layer": t.layer, "filters": t.filters, "similarity": t.similarity, "device": pre.where,
        "started": round(pre.born, 3), "finished": round(time.time(), 3), "seconds": round(time.time() - t0, 2)})


def summary(got: dict) -> str:
    """A filter's scores in one line of the log: each measure's words (``measure/measures.py``)."""
    if not any(got.get(m.name) for m in MEASURES if m.chart):
        return "too few images for a score"
    return ", ".join(filter(None, (m.words(got) for m in MEASURES)))


def score_images(s: settings.TrustImages) -> list[str]:
    """Each image scored alone as the filter's explanation, against this atlas' pool, its
    negative pictures and the layer's other pictures: one JSON line per image. ``mis`` is the
    score the page's verdict rests on, the specific score."""
    t = s.trust
    pre, scorer = _scorer(t)
    lyr = scorer.lyr
    found, images = _examples(t, s.filter)
    loader = _prepared(t, scorer, found)
    examples_pool = loader.pool(found, images)
    own = FilterRecord.read(layout.filter_json(t.outdir, t.layer, s.filter))
    indices = _compared(t, s.filter)
    pictures = [_pictures(t, FilterRecord.read(layout.filter_json(t.outdir, t.layer, g)), pre.bands)[0][0] for g in indices]
    layer = replace(_layer(t, scorer, indices, pictures, own.size), negatives=scorer.embed(_pictures(t, own, pre.bands)[1]))
    lines = []
    for name in s.images:
        picture = pre.bands.from_rgb(np.asarray(photos.open_image(name)))
        # Scored as this filter's explanation, a picture is never its own negative reference.
        same = {g for g, p in zip(indices, pictures) if np.array_equal(p, picture)}
        got = scorer.score(examples_pool, [picture], layer, {s.filter} | same, [t.seed, 400, lyr.index, s.filter])
        lines.append(json.dumps(line(name, t, s.filter, got)))
    return lines


def _compared(t: settings.Trust, f: int) -> list[int]:
    """The filters whose pictures a scored image is measured against: those the filter's trust
    record used, or else the comparison set of every filter of the layer rendered in the atlas."""
    path = Path(layout.trust_json(t.outdir, t.layer, f))
    if path.exists():
        record = Trust.read(path)
        if record.null is not None:
            return record.null.others
    rendered = layout.rendered_filters(t.outdir, t.layer)
    index = t.runtime.weights.network().layer(t.layer).index
    return [g for g in interpretability.comparison_set(rendered, [t.seed, 402, index]) if g != f]


def line(name: str, t: settings.Trust, f: int, got: dict) -> dict:
    """One scored image as the command prints it."""
    out = {"image": name, "layer": t.layer, "filter": f, "similarity": t.similarity}
    for m in MEASURES:  # each measure's own keys (measure/measures.py)
        out |= m.line(got)
    return out | {"tasks": got["tasks"], "pool": got["pool"]}


def trust(s: settings.Trust | settings.TrustImages) -> Path | list[str]:
    """A layer's trust scores (Snakemake's job), or any images scored by hand."""
    return score_images(s) if isinstance(s, settings.TrustImages) else score_layer(s)
