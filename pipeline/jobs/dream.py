"""The dream job: one configured photo ascended towards chosen filters (``optvis/dream.py``)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..config import settings
from ..images import photos
from ..model import network
from ..optvis import dream as dreaming
from ..output import layout
from .common import Terminal, preflight, versions


def dream(job: settings.DreamJob) -> list[Path]:
    """Render one configured dream into ``{outdir}/dreams/``."""
    spec = job.dream
    t0 = time.perf_counter()
    pre = preflight(job.runtime)
    least = pre.network.min_size
    photo = pre.bands.from_rgb(dreaming.fit(photos.load(spec.photo), spec.size, least))
    model = network.cut_model(pre.base(), spec.layer)
    rng = np.random.default_rng([job.seed, 200, pre.network.layer(spec.layer).index])
    dreamer = dreaming.Dreamer(model, spec, pre.weights.preprocess, least, rng)
    terminal = Terminal()  # the log, and about once a minute the terminal
    terminal.say(f"dream {spec.name}: {spec.photo} {photo.shape[1]}x{photo.shape[0]}, {spec.layer} "
        f"filters {spec.filters[:8]}{'...' if len(spec.filters) > 8 else ''}")
    image = dreamer.dream(photo, terminal)
    meta = {**asdict(spec), "activation": {"photo": dreamer.score(photo), "dream": dreamer.score(image)},
            "weights": pre.weights.id, "preprocess": pre.weights.preprocess, "seed": job.seed,
            "device": pre.where, "seconds": round(time.perf_counter() - t0, 2), "versions": versions()}
    png, original, meta_path = layout.dream_files(job.outdir, spec.name)
    terminal.say(f"dream {spec.name}: activation {meta['activation']['photo']:.3g} -> "
                 f"{meta['activation']['dream']:.3g}, {meta['seconds']:.0f} s")
    return [layout.write_png(original, pre.bands.shown(photo)), layout.write_png(png, pre.bands.shown(image)),
            layout.write_json(meta_path, meta)]
