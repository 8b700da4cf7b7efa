"""The twins job: search one layer's rendered pictures for rotation twins (``measure/twins.py``)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..config import settings
from ..measure import twins
from ..measure.probe import Probe
from ..model import network
from ..output import layout
from .common import preflight, say


def find_twins(t: settings.Twins) -> Path:
    pre = preflight(t.runtime)
    probe = Probe(network.cut_model(pre.base(), t.layer), pre.weights.preprocess)
    t0 = time.perf_counter()
    images = np.stack([pre.bands.unshown(layout.read_png(layout.filter_png(t.outdir, t.layer, f))) for f in t.filters])
    found = twins.find(probe.activations, images, t.filters)
    seconds = time.perf_counter() - t0
    say(f"{t.layer}: {len(found)} twin pairs among {len(t.filters)} filters at ratio >= {twins.THRESHOLD} "
        f"({len({x.filter for x in found})} filters have one), {seconds:.1f} s on {pre.where}")
    return layout.write_json(layout.twins_json(t.outdir, t.layer), {
        "layer": t.layer, "threshold": twins.THRESHOLD, "filters": len(t.filters),
        "seconds": round(seconds, 2), "twins": [asdict(x) for x in found]})
