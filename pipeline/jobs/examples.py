"""The examples job: one streaming pass over the examples images for the layers whose examples
are missing (``settings.examples_todo``), then each filter's mosaic and JSON, and a manifest
per layer (``measure/examples.py``)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np

from ..config import settings
from ..measure import examples
from ..model import network
from ..model.description import ConvLayer
from ..output import layout
from ..output.record import FilterExamples
from .common import Terminal, preflight, say


def find_examples(e: settings.Examples) -> list[Path]:
    pre = preflight(e.runtime)
    net = pre.network
    deepest = max(e.filters, key=lambda name: net.layer(name).index)  # no conv deeper is computed
    scanned = list(net.layers[:net.layer(deepest).index + 1])
    scanner = examples.Scanner(network.all_convs_model(pre.base(), [lyr.name for lyr in scanned]), scanned,
                               pre.weights.preprocess, e.top, e.negative, pre.bands)
    terminal = Terminal()  # the log, and about once a minute the terminal
    terminal.say(f"examples: from {e.source!r}, shorter side {e.side} px, top {e.top} per filter, on {pre.where}")
    found = scanner.scan(e.source, e.side, terminal)
    images = len(found.sources) - len(found.skipped)
    rate = images / max(found.seconds, 1e-9)
    say(f"examples: {images} images in {found.seconds:.1f} s ({rate:.1f} images/s) up to {deepest}, "
        f"{len(found.skipped)} skipped, {found.refused} links outside the folder refused")
    written = []
    for layer_name, filters in e.filters.items():  # each layer's manifest once its files are all written
        t0 = time.perf_counter()
        write_layer(e, found, net.layer(layer_name), filters)
        written.append(layout.write_json(layout.examples_manifest(e.outdir, layer_name), {
            "settings": settings.examples_layer(e, layer_name), "source": e.source, "images": images,
            "skipped": found.skipped, "skipped_why": found.why, "refused_links": found.refused,
            "scan": {"layers": list(e.filters), "deepest": deepest, "seconds": round(found.seconds, 2),
                     "images_per_second": round(rate, 2)},
            "crops_seconds": round(time.perf_counter() - t0, 2),
            # Where and when it ran, as an ascent's manifest says it: a cluster run can be checked.
            "device": pre.where, "started": round(pre.born, 3), "finished": round(time.time(), 3),
            # Peak resident memory of the job (Linux reports KiB): flat in the folder's size.
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    return written


def write_layer(e: settings.Examples, found: examples.Scan, lyr: ConvLayer, filters: list[int]) -> None:
    """Each filter's mosaic (a square: a layer page can show it as a tile) and its JSON."""
    columns = int(np.ceil(np.sqrt(e.top)))
    got = examples.crops(found, lyr, filters, e.side, e.top)
    for f in filters:
        lists = examples.listed(found, lyr.name, f, e.top, got)
        webp, meta = layout.example_files(e.outdir, lyr.name, f)
        layout.write_webp(webp, examples.mosaic([got.tiles["examples", f, r] for r in range(e.top)
                                                 if ("examples", f, r) in got.tiles], columns))
        FilterExamples(lyr.name, f, e.source, e.side, columns, lists["examples"],
                       lists.get("negative", []), lists["more"], lists["weakest"]).write(meta)
    say(f"examples: {lyr.name}: {len(filters)} mosaics written")
