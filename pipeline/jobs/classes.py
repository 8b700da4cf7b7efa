"""The classes job: every configured class output of the full VGG16 maximised (Chollet 2016's
sea snake and magpie), as one batch per step count."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import methods
from ..config import settings
from ..model import network, vgg16, weights
from ..optvis import objectives, parts as blocks, render
from ..output import layout
from .common import preflight, say, versions


def classes(job: settings.Classes) -> list[Path]:
    s = job.ascent
    pre = preflight(s.runtime)
    full = network.full_model(weights.classifier_file(pre.weights, s.weights.name, say))
    # The dense layers fix the input at 224 px, so the moves must not pad it.
    method = methods.get(s.method)
    s = replace(s, size=vgg16.CLASSIFIER_SIZE, knobs=method.unpadded(s.knobs))
    goal = render.Goal(network.logits_model(full), pre.weights.preprocess, objectives.class_logit())
    parts = method.parts(s.knobs, s.size, blocks, weights.cache_dir(s.weights.cache))
    renderer = render.Renderer(goal, parts, render.Draws(s.seed, render.CLASS_STREAM), s.jit)
    written = []
    for steps in sorted({c.steps for c in job.classes}):
        group = [c for c in job.classes if c.steps == steps]
        results = renderer.render([c.target for c in group], steps, progress=render.Progress(f"classes x{len(group)}"))
        probs = np.exp(renderer.measure(np.stack([r.image for r in results]), [c.target for c in group])[0])
        for spec, r, prob in zip(group, results, probs):
            meta = {"name": spec.name, "class": spec.target, "method": s.method, "steps": steps,
                    "seed": s.seed, "probability": float(prob), "device": pre.where,
                    "curve": [(step, float(np.exp(v))) for step, v in r.curve],
                    "weights": pre.weights.id, "seconds": round(r.seconds, 2), "versions": versions()}
            png, meta_path = layout.class_files(job.outdir, spec.name)
            written += [layout.write_png(png, r.image), layout.write_json(meta_path, meta)]
            say(f"class {spec.target} ({spec.name}): probability {prob:.4f} on the saved PNG")
    return written
