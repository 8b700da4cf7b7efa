"""What each Snakemake job does, callable without Snakemake too (see ``__main__``).

Each function takes its job's typed settings (``pipeline.settings``) and checks nothing
again: the config was checked once, before the job graph was built.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import (__version__, ascent, circuits, config, device, grid, layout, objectives, quality, settings,
               twins, vgg16, weights)
from .errors import AtlasError
from .record import Activation, FilterRecord

DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_weights(s: settings.Weights) -> weights.Weights:
    resolved = weights.resolve(s.name, weights.cache_dir(s.cache), s.preprocess)
    weights.ensure(resolved, s.name, say)
    return resolved


def memory_bytes(where: str) -> int:
    """Memory a batch may plan on: $VGG16_ATLAS_MEMORY_GB, else the GPU's free memory, else the host's."""
    if os.environ.get("VGG16_ATLAS_MEMORY_GB"):
        return int(float(os.environ["VGG16_ATLAS_MEMORY_GB"]) * 2**30)
    if not where.startswith("CPU"):
        free = device.free_memory_bytes()
        if free:
            return free
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def versions() -> dict:
    import keras
    import tensorflow as tf

    return {"pipeline": __version__, "tensorflow": tf.__version__, "keras": keras.__version__}


def ascend(job: settings.AscentJob, layer_name: str, filters: list[int], outdir: str,
           threads: int | None = None) -> Path:
    """Render ``filters`` of ``layer_name`` (and their classic comparison); write each filter's
    PNG and record, then the chunk's manifest.

    Filters whose record already holds these settings are kept, so a job killed half-way
    resumes, and a changed classic setting redoes only the classic images.
    """
    s = job.main
    where = device.start_tensorflow(s.device)
    born = _process_start()
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
    say(f"device: {where}")
    resolved = prepare_weights(s.weights)
    lyr = vgg16.layer(layer_name)
    base = weights.load_base(resolved)
    kernels = circuits.kernels(base)
    renders = [("main", job.main)] + ([("classic", job.classic)] if job.classic else [])
    manifest = {"layer": layer_name, "filters": filters, "device": where, "renders": {}}
    setup = None
    with ThreadPoolExecutor(max_workers=1) as writer:  # PNG and JSON writing beside the GPU
        for render, rs in renders:
            todo = [f for f in filters if not _done(outdir, render, layer_name, f, rs, resolved)]
            if len(todo) < len(filters):
                say(f"{layer_name} {render}: {len(filters) - len(todo)} of {len(filters)} filters "
                    "already rendered with these settings; keeping them")
            manifest["renders"][render] = todo
            if not todo:
                continue
            model = vgg16.cut_model(base, layer_name, DTYPES[rs.precision])
            batch_size = rs.batch_size
            if batch_size == "auto":
                batch_size = ascent.auto_batch_size(lyr, rs.size, memory_bytes(where))
            renderer = ascent.for_filters(model, lyr, rs, resolved.preprocess)
            # The scorecard is the main render's; the classic comparison only sits beside it.
            probe = quality.Probe(model, resolved.preprocess) if render == "main" else None
            photos = quality.photos(rs.size) if probe else None
            photo_acts = probe.activations(photos) if probe else None
            if probe:  # two shapes make tf.function trace a general one: at start-up, not in a batch
                for n in (3, 2):
                    probe.own(photos[:n], [0] * n)
            if setup is None:
                setup = time.time() - born
            say(f"{layer_name} {render}: {len(todo)} filters, method {rs.method}, {rs.steps} steps, "
                f"{rs.size} px, batches of {batch_size}, start-up {time.time() - born:.1f} s")
            measures = Measures(probe, photo_acts, kernels)
            _render_batches(renderer, measures, rs, lyr, todo, max(1, batch_size // rs.diversity), render,
                            outdir, where, resolved, writer)
    # What bench/jobs.py reads: the start-up from the process' start to the first step
    # (imports, weights, model), and the whole job.
    manifest.update(started=round(born, 3), finished=round(time.time(), 3),
                    seconds=round(time.time() - born, 3), setup_seconds=round(setup or 0.0, 3))
    say(f"{layer_name}: {len(filters)} filters in {manifest['seconds']:.1f} s since the job started")
    return layout.write_json(layout.chunk_manifest(outdir, layer_name, filters[0]), manifest)


def _process_start() -> float:
    """When this process started (epoch seconds): imports count towards a job's start-up."""
    import psutil

    return psutil.Process().create_time()


@dataclass
class Measures:
    """What a job measures beside the ascent: the scorecard's probe and photos, and the kernels
    the circuits are read from."""

    probe: quality.Probe | None
    photo_acts: np.ndarray | None
    kernels: dict


def _render_batches(renderer, measures: Measures, s: settings.Ascent, lyr, filters, batch_size, render,
                    outdir, where, resolved, writer) -> None:
    """Render ``filters`` batch by batch; ``writer`` writes each batch while the next renders."""
    from tensorflow.errors import ResourceExhaustedError

    queue, pending = ascent.batches(filters, batch_size), []
    while queue:
        batch = queue.pop(0)
        label = f"{lyr.name} filters {batch[0]}-{batch[-1]}"
        try:
            results = renderer.render(batch, s.steps, label=label)
        except ResourceExhaustedError:
            if len(batch) == 1:
                raise AtlasError(f"ascend: {label} does not fit in memory even one filter at a time; "
                                 "lower size or use a larger GPU") from None
            half = len(batch) // 2
            say(f"{label}: out of memory with {len(batch)} filters; halving the batch to {half} and going on")
            queue[:0] = [batch[:half], batch[half:]]
            continue
        images = np.stack([r.image for r in results])
        png_means, png_peaks = renderer.measure(images, batch)
        cards = measures.probe.scorecards(images, batch, measures.photo_acts) if measures.probe \
            else [None] * len(batch)
        pending.append(writer.submit(_write_batch, results, png_means, png_peaks, cards, measures.kernels,
                                     s, lyr, render, outdir, where, resolved))
        say(f"{label}: done, activation on saved PNGs {np.round(png_means, 1).tolist()}")
    for done in pending:
        done.result()  # a failed write fails the job


def _write_batch(results, png_means, png_peaks, cards, kernels, s: settings.Ascent, lyr, render, outdir,
                 where, resolved):
    for r, png_mean, png_peak, card in zip(results, png_means, png_peaks, cards):
        png_path, json_path = layout.render_files(outdir, render, lyr.name, r.filter)
        extra = [Path(layout.diverse_png("", lyr.name, r.filter, k)).name for k in range(1, len(r.diverse) + 1)]
        for name, image in zip(extra, r.diverse):
            layout.write_png(Path(png_path).with_name(name), image)
        layout.write_png(png_path, r.image)
        FilterRecord(
            layer=lyr.name, filter=r.filter, **_identity(s, resolved),
            weights_licence=resolved.licence, device=where,
            activation=Activation(r.initial, r.final, float(png_mean), float(png_peak)),
            **_firing(kernels, lyr, r.filter, bool(png_peak > 0.0), s, resolved.preprocess),
            curve=r.curve, seconds=round(r.seconds, 4), versions=versions(), diversity=extra,
            inputs=circuits.inputs(kernels, lyr, r.filter), outputs=circuits.outputs(kernels, lyr, r.filter),
            scorecard=card,
            kernel=circuits.rgb_kernel(kernels, r.filter, resolved.preprocess) if lyr.index == 0 else None,
        ).write(json_path)  # last: a record means its images are complete


def _firing(kernels, lyr, f: int, fired: bool, s: settings.Ascent, preprocess_mode: str) -> dict:
    """``dead`` only where that is known: a first-layer filter that no valid image can make
    positive (decided exactly), or one still silent after at least the default steps. A filter
    that did not fire in a shorter run is ``silent``: it may only have needed more steps."""
    if lyr.index == 0:
        dead = not circuits.can_fire(kernels, f, preprocess_mode)
    else:
        dead = not fired and s.steps >= config.default_steps(s.method, s.fourier and s.fourier.schedule)
    return {"dead": dead, "silent": not fired and not dead}


def _identity(s: settings.Ascent, resolved: weights.Weights) -> dict:
    """The record's fields that decide a filter's image: written into every record, and what a
    rerun compares to keep a finished filter. Knobs as the JSON holds them (tuples as lists)."""
    return dict(method=s.method, steps=s.steps, size=s.size, seed=s.seed,
                settings=json.loads(json.dumps(asdict(s.knobs))), precision=s.precision,
                diversity_weight=s.diversity_weight if s.diversity > 1 else None,
                weights=resolved.id, preprocess=resolved.preprocess)


def _done(outdir, render, layer_name, index, s: settings.Ascent, resolved: weights.Weights) -> bool:
    """Whether a filter's record and images already exist for exactly these settings."""
    png, meta = layout.render_files(outdir, render, layer_name, index)
    if not (Path(png).exists() and Path(meta).exists()):
        return False
    try:
        rec = FilterRecord.read(meta)
    except (ValueError, TypeError, KeyError):
        return False
    images = len(rec.diversity) + 1 == s.diversity and all(Path(png).with_name(n).exists() for n in rec.diversity)
    same = all(getattr(rec, key) == value for key, value in _identity(s, resolved).items())
    return images and same and rec.versions.get("pipeline") == __version__


def dream(job: settings.DreamJob) -> list[Path]:
    """Render one configured dream into ``{outdir}/dreams/``."""
    from . import dream as dreaming

    spec = job.dream
    t0 = time.perf_counter()
    where = device.start_tensorflow(job.device)
    say(f"device: {where}")
    photo = dreaming.fit(dreaming.load_photo(spec.photo), spec.size)
    resolved = prepare_weights(job.weights)
    model = vgg16.cut_model(weights.load_base(resolved), spec.layer)
    dreamer = dreaming.Dreamer(model, spec.filters, resolved.preprocess, spec.step_size)
    rng = np.random.default_rng([job.seed, 200, vgg16.layer(spec.layer).index])
    say(f"dream {spec.name}: {spec.photo} {photo.shape[1]}x{photo.shape[0]}, {spec.layer} "
        f"filters {spec.filters[:8]}{'...' if len(spec.filters) > 8 else ''}")
    image = dreamer.dream(photo, spec.steps, spec.octaves, spec.octave_scale, rng, sys.stderr)
    meta = {**asdict(spec), "activation": {"photo": dreamer.score(photo), "dream": dreamer.score(image)},
            "weights": resolved.id, "preprocess": resolved.preprocess, "seed": job.seed, "device": where,
            "seconds": round(time.perf_counter() - t0, 2), "versions": versions()}
    png, original, meta_path = layout.dream_files(job.outdir, spec.name)
    say(f"dream {spec.name}: activation {meta['activation']['photo']:.3g} -> {meta['activation']['dream']:.3g}")
    return [layout.write_png(original, photo), layout.write_png(png, image),
            layout.write_json(meta_path, meta)]


def classes(job: settings.Classes) -> list[Path]:
    """Maximise every configured class output of the full VGG16, as one batch per step count."""
    s = job.ascent
    where = device.start_tensorflow(s.device)
    say(f"device: {where}")
    resolved = prepare_weights(s.weights)
    full = vgg16.full_model(weights.classifier_file(resolved, s.weights.name, say))
    # The dense layers fix the input at 224 px, so transforms must not pad it.
    s = replace(s, size=vgg16.CLASSIFIER_SIZE, diversity=1,
                fourier=s.fourier and replace(s.fourier, pad=0))
    score = objectives.class_logit()
    renderer = ascent.Renderer(vgg16.logits_model(full), s, resolved.preprocess, ascent.CLASS_STREAM,
                               score, score)
    written = []
    for steps in sorted({c.steps for c in job.classes}):
        group = [c for c in job.classes if c.steps == steps]
        results = renderer.render([c.target for c in group], steps, label=f"classes x{len(group)}")
        probs = np.exp(renderer.measure(np.stack([r.image for r in results]), [c.target for c in group])[0])
        for spec, r, prob in zip(group, results, probs):
            meta = {"name": spec.name, "class": spec.target, "method": s.method, "steps": steps,
                    "seed": s.seed, "probability": float(prob), "device": where,
                    "curve": [(step, float(np.exp(v))) for step, v in r.curve],
                    "weights": resolved.id, "seconds": round(r.seconds, 2), "versions": versions()}
            png, meta_path = layout.class_files(job.outdir, spec.name)
            written += [layout.write_png(png, r.image), layout.write_json(meta_path, meta)]
            say(f"class {spec.target} ({spec.name}): probability {prob:.4f} on the saved PNG")
    return written


def find_twins(t: settings.Twins) -> Path:
    """Search one layer's rendered pictures for rotation twins (``pipeline/twins.py``)."""
    where = device.start_tensorflow(t.device)
    resolved = prepare_weights(t.weights)
    probe = quality.Probe(vgg16.cut_model(weights.load_base(resolved), t.layer), resolved.preprocess)
    t0 = time.perf_counter()
    images = np.stack([layout.read_png(layout.filter_png(t.outdir, t.layer, f)) for f in t.filters])
    found = twins.find(probe.activations, images, t.filters)
    seconds = time.perf_counter() - t0
    say(f"{t.layer}: {len(found)} twin pairs among {len(t.filters)} filters at ratio >= {twins.THRESHOLD} "
        f"({len({x.filter for x in found})} filters have one), {seconds:.1f} s on {where}")
    return layout.write_json(layout.twins_json(t.outdir, t.layer), {
        "layer": t.layer, "threshold": twins.THRESHOLD, "filters": len(t.filters),
        "seconds": round(seconds, 2), "twins": [asdict(x) for x in found]})


def find_examples(e: settings.Examples) -> Path:
    """One streaming pass over the examples images; then each selected filter's mosaic and JSON."""
    from . import examples
    from .record import Example, FilterExamples

    where = device.start_tensorflow(e.device)
    resolved = prepare_weights(e.weights)
    model = examples.all_convs_model(weights.load_base(resolved))
    say(f"examples: from {e.source!r}, shorter side {e.side} px, top {e.top} per filter, on {where}")
    found = examples.scan(model, resolved.preprocess, e.source, e.side, e.top, e.negative)
    t0 = time.perf_counter()
    columns = int(np.ceil(np.sqrt(e.top)))  # a square mosaic: a layer page can show it as a tile
    for layer_name, filters in e.filters.items():
        lyr = vgg16.layer(layer_name)
        kinds = [("examples", found.best[layer_name], 1.0)] + \
            ([("negative", found.worst[layer_name], -1.0)] if found.worst else [])
        wanted: dict[int, list] = {}  # image index -> the crops it gives: opened once per layer
        for kind, top, _ in kinds:
            for f in filters:
                for rank, (index, (y, x)) in enumerate(zip(top.image[f], top.where[f])):
                    if index >= 0:
                        wanted.setdefault(int(index), []).append((kind, f, rank, int(y), int(x)))
        tiles, boxes = {}, {}
        for index, crops in sorted(wanted.items()):
            image, scale = examples.load(found.sources[index], e.side)
            for kind, f, rank, y, x in crops:
                left, top_, right, bottom = examples.box(lyr, y, x, *image.shape[:2])
                tiles[kind, f, rank] = examples.tile(image[top_:bottom, left:right])
                boxes[kind, f, rank] = [round(left / scale[0]), round(top_ / scale[1]),
                                        round(right / scale[0]), round(bottom / scale[1])]
        for f in filters:
            lists = {}
            for kind, top, sign in kinds:
                ranks = [r for r in range(e.top) if (kind, f, r) in tiles]
                lists[kind] = [Example(found.sources[int(top.image[f, r])].name, top.where[f, r].tolist(),
                                       boxes[kind, f, r], round(sign * float(top.value[f, r]), 4)) for r in ranks]
            webp, meta = layout.example_files(e.outdir, layer_name, f)
            layout.write_webp(webp, examples.mosaic([tiles["examples", f, r] for r in range(e.top)
                                                     if ("examples", f, r) in tiles], columns))
            FilterExamples(layer_name, f, e.source, e.side, columns, lists["examples"],
                           lists.get("negative", [])).write(meta)
        say(f"examples: {layer_name}: {len(filters)} mosaics written")
    images = len(found.sources) - len(found.skipped)
    rate = images / max(found.seconds, 1e-9)
    say(f"examples: {images} images in {found.seconds:.1f} s ({rate:.1f} images/s), "
        f"{len(found.skipped)} skipped, {found.refused} links outside the folder refused; "
        f"crops and mosaics {time.perf_counter() - t0:.1f} s")
    return layout.write_json(layout.examples_manifest(e.outdir), {
        "source": e.source, "fingerprint": e.fingerprint, "images": images, "skipped": found.skipped,
        "refused_links": found.refused, "seconds": round(found.seconds, 2),
        "images_per_second": round(rate, 2), "layers": sorted(e.filters),
        # Peak resident memory of the job (Linux reports KiB): flat in the folder's size.
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


THUMB = 96          # px: a layer page's tiles
GRID_PREVIEW = 720  # px wide: the network page's preview of each grid


def stitch_grid(g: settings.Grid) -> Path:
    """The layer's grid PNG, plus the small WebP copies the site's pages load."""
    missing = [f for f in g.filters if not Path(layout.filter_png(g.outdir, g.layer, f)).exists()]
    if missing:
        raise AtlasError(f"grid: {layout.filter_png(g.outdir, g.layer, missing[0])} is missing "
                         f"({len(missing)} of {len(g.filters)}); render the filters first (delete "
                         f"{g.outdir}/manifests/ascend/{g.layer}-*.json if you removed images by hand)")
    images = [layout.read_png(layout.filter_png(g.outdir, g.layer, f)) for f in g.filters]
    records = [FilterRecord.read(layout.filter_json(g.outdir, g.layer, f)) for f in g.filters]
    dead = [r.dead or r.silent for r in records]  # a picture its filter does not answer
    sheet = grid.stitch(images, [str(f) for f in g.filters], g.tile, g.columns, dead)
    for f, image in zip(g.filters, images):
        layout.write_webp(layout.filter_thumb(g.outdir, g.layer, f), image, THUMB)
    layout.write_webp(layout.grid_thumb(g.outdir, g.layer), sheet, GRID_PREVIEW)
    return layout.write_png(layout.grid_png(g.outdir, g.layer), sheet)
