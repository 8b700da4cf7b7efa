"""The caricatures job: each filter's top dataset example accentuated towards the filter
(``optvis/caricature.py``). It reads what the examples job wrote, so new images rerun it and
the pages, never an ascent."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from ..config import settings
from ..images import photos
from ..model import network
from ..optvis import caricature, render
from ..output import layout
from ..output.record import Caricature, FilterExamples
from .common import Terminal, preflight, say

BATCH = 16


def photo_crop(found: FilterExamples, size: int) -> tuple[np.ndarray, list[int]] | None:
    """The top example's photo around its box, at the scale the examples were found at (the
    shorter side resized to ``found.side``): a square of ``size`` such pixels, or the whole
    shorter side where that is less; None without examples."""
    if not found.examples:
        return None
    top = found.examples[0]
    img = photos.open_image(top.image if photos.is_skimage(top.image) else Path(found.source, top.image))
    left, upper, right, lower = top.box
    short = min(img.size)
    side = int(min(short, round(size * short / found.side)))
    x0 = int(np.clip((left + right) / 2 - side / 2, 0, img.size[0] - side))
    y0 = int(np.clip((upper + lower) / 2 - side / 2, 0, img.size[1] - side))
    crop = [x0, y0, x0 + side, y0 + side]
    return np.asarray(img.crop(crop).resize((size, size), Image.LANCZOS)), crop


def caricatures(c: settings.Caricatures) -> Path:
    t0 = time.time()
    pre = preflight(c.runtime)
    lyr = pre.network.layer(c.layer)
    artist = caricature.caricaturist(network.cut_model(pre.base(), c.layer), pre.weights.preprocess, c.tie,
                                     c.size, (c.seed, lyr.index))
    todo = []
    for f in c.filters:
        found = FilterExamples.read(layout.example_files(c.outdir, c.layer, f)[1])
        try:
            got = photo_crop(found, c.size)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            say(f"caricatures: {c.layer} filter {f}: skipping its top example {found.examples[0].image}: "
                f"it cannot be read as an image ({error})")
            continue
        if got is not None:
            pixels, crop = got
            todo.append((f, found.examples[0].image, pre.bands.from_rgb(pixels), crop))
    terminal = Terminal()  # the log, and about once a minute the terminal
    terminal.say(f"caricatures: {c.layer}, {len(todo)} filters, {c.steps} steps, tie {c.tie}, on {pre.where}")
    for batch in render.batches(todo, BATCH):
        began = time.perf_counter()
        filters = [f for f, *_ in batch]
        start = np.stack([pixels for *_, pixels, _ in batch])
        out = caricature.accentuate(artist, start, filters, c.steps,
                                    render.Progress(f"caricatures: {c.layer} filters {filters[0]}-{filters[-1]}", terminal))
        (before, _), (after, _) = artist.measure(start, filters), artist.measure(out, filters)
        each = (time.perf_counter() - began) / len(batch)
        for i, (f, image, pixels, crop) in enumerate(batch):
            png, photo_png, meta = layout.caricature_files(c.outdir, c.layer, f)
            layout.write_png(photo_png, pre.bands.shown(pixels))
            layout.write_png(png, pre.bands.shown(out[i]))
            distance = float(np.sqrt(np.mean((out[i].astype(np.float64) - pixels) ** 2)))
            Caricature(c.layer, f, image, crop, c.steps, c.tie,
                       {"photo": round(float(before[i]), 4), "caricature": round(float(after[i]), 4)},
                       round(distance, 2), round(each, 4)).write(meta)
        terminal.write(f"caricatures: {c.layer} filters {filters[0]}-{filters[-1]} done, {each:.2f} s a filter; "
                       f"activation {float(np.mean(before)):.3g} -> {float(np.mean(after)):.3g}\n")
    return layout.write_json(layout.caricatures_manifest(c.outdir, c.layer), {
        "layer": c.layer, "filters": [f for f, *_ in todo], "device": pre.where,
        "started": round(pre.born, 3), "finished": round(time.time(), 3), "seconds": round(time.time() - t0, 2)})
