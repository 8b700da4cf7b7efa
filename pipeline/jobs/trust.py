"""The trust job: each filter's MIS, natural and synthetic, and its processing path
(``measure/trust.py``), from the pictures the ascent jobs drew and the pool the examples job
kept. New images rerun it and the pages, never an ascent. Also the scorer for any picture:
``python -m pipeline trust --outdir ATLAS LAYER FILTER IMAGE...``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..config import settings
from ..errors import AtlasError
from ..images import folder, photos
from ..measure import interpretability
from ..measure.lpips import LPIPS, Similarity
from ..model import vgg16, weights
from ..output import layout
from ..output.record import FilterExamples, FilterRecord, Trust
from .common import preflight, say


def _scorer(t: settings.Trust):
    pre = preflight(t.device, t.weights)
    base = pre.base()
    same = t.similarity == LPIPS and t.weights.name == weights.DEFAULT
    similarity = Similarity(t.similarity, weights.cache_dir(t.weights.cache), base if same else None)
    return pre, interpretability.Scorer(base, vgg16.layer(t.layer), pre.weights.preprocess, similarity)


def _examples(t: settings.Trust, f: int) -> tuple[FilterExamples, int]:
    """A filter's examples and how many images the examples job measured."""
    meta = layout.example_files(t.outdir, t.layer, f)[1]
    if not Path(meta).exists():
        raise AtlasError(f"trust: {meta} is missing; find the dataset examples first "
                         "(snakemake, or python -m pipeline examples)")
    manifest = json.loads(Path(layout.examples_manifest(t.outdir)).read_text())
    return FilterExamples.read(meta), int(manifest["images"])


def _pictures(t: settings.Trust, rec: FilterRecord) -> tuple[list[np.ndarray], list[np.ndarray]]:
    png = Path(layout.filter_png(t.outdir, t.layer, rec.filter))
    pictures = [layout.read_png(png)] + [layout.read_png(png.with_name(n)) for n in rec.diversity]
    negatives = [layout.read_png(png.with_name(rec.negative))] if rec.negative else []
    return pictures, negatives


def _prepared(t: settings.Trust, scorer, found: FilterExamples) -> interpretability.Loader:
    """The layer's image loader, and the scorer calibrated on the examples' photos (the same
    random patches for the job and for the command line)."""
    lyr = vgg16.layer(t.layer)
    loader = interpretability.Loader(found.source, found.side, lyr)
    names = [s.name for s in folder.sources(found.source)[0]]
    scorer.calibrate(loader, names, [t.seed, 401, lyr.index])
    return loader


def score_layer(t: settings.Trust) -> Path:
    t0 = time.time()
    pre, scorer = _scorer(t)
    lyr = vgg16.layer(t.layer)
    say(f"trust: {t.layer}, {len(t.filters)} filters, similarity {t.similarity}, on {pre.where}")
    loader, said = None, time.perf_counter()
    for done, f in enumerate(t.filters, 1):
        began = time.perf_counter()
        found, images = _examples(t, f)
        loader = loader or _prepared(t, scorer, found)
        strong, weak = interpretability.pool(found, images)
        rec = FilterRecord.read(layout.filter_json(t.outdir, t.layer, f))
        pictures, negatives = _pictures(t, rec)
        got = scorer.score(loader.windows(strong), loader.windows(weak), pictures, negatives,
                           len(found.examples), [t.seed, 400, lyr.index, f])
        Trust(t.layer, f, t.similarity, found.source, **got,
              seconds=round(time.perf_counter() - began, 4)).write(layout.trust_json(t.outdir, t.layer, f))
        if time.perf_counter() - said > 10 or done == len(t.filters):
            said = time.perf_counter()
            syn, nat = got["synthetic"], got["natural"]
            say(f"trust: {t.layer}: {done}/{len(t.filters)} filters; filter {f}: natural MIS "
                f"{nat.mis if nat else float('nan'):.2f}, synthetic {syn.mis if syn else float('nan'):.2f} "
                f"({got['synthetic_kind']}), path {got['path']}")
    return layout.write_json(layout.trust_manifest(t.outdir, t.layer), {
        "layer": t.layer, "filters": t.filters, "similarity": t.similarity, "device": pre.where,
        "started": round(pre.born, 3), "finished": round(time.time(), 3), "seconds": round(time.time() - t0, 2)})


def score_images(s: settings.TrustImages) -> list[str]:
    """Each image scored alone as the filter's positive explanation, against this atlas' pool
    and negatives: one JSON line per image."""
    t = s.trust
    for name in s.images:
        photos.check(name, "trust: IMAGE")
    pre, scorer = _scorer(t)
    lyr = vgg16.layer(t.layer)
    found, images = _examples(t, s.filter)
    loader = _prepared(t, scorer, found)
    strong, weak = interpretability.pool(found, images)
    strong, weak = loader.windows(strong), loader.windows(weak)
    meta = Path(layout.filter_json(t.outdir, t.layer, s.filter))
    negatives = _pictures(t, FilterRecord.read(meta))[1] if meta.exists() else []
    lines = []
    for name in s.images:
        picture = np.asarray(photos.open_image(name))
        got = scorer.score(strong, weak, [picture], negatives, len(found.examples),
                           [t.seed, 400, lyr.index, s.filter])
        syn, nat = got["synthetic"], got["natural"]
        lines.append(json.dumps({
            "image": name, "layer": t.layer, "filter": s.filter, "similarity": t.similarity,
            "mis": syn.mis if syn else None, "mis_low": syn.low if syn else None,
            "mis_high": syn.high if syn else None, "kind": got["synthetic_kind"],
            "natural_mis": nat.mis if nat else None, "path": got["path"],
            "path_baseline": got["path_baseline"], "tasks": got["tasks"]}))
    return lines


def trust(s: settings.Trust | settings.TrustImages) -> Path | list[str]:
    """A layer's trust scores (Snakemake's job), or any images scored by hand."""
    return score_images(s) if isinstance(s, settings.TrustImages) else score_layer(s)
