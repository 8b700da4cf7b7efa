"""What each Snakemake job does, callable without Snakemake too (see ``__main__``)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, ascent, config, grid, layout, vgg16, weights
from .errors import AtlasError


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_weights(cfg: dict) -> weights.Weights:
    resolved = weights.resolve(cfg["weights"], weights.cache_dir(cfg["cache"]), cfg["preprocess"])
    weights.ensure(resolved, cfg["weights"], say)
    return resolved


DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def memory_bytes() -> int:
    """Memory the batch may plan on: $VGG16_ATLAS_MEMORY_GB, else the GPU's or the host's."""
    if os.environ.get("VGG16_ATLAS_MEMORY_GB"):
        return int(float(os.environ["VGG16_ATLAS_MEMORY_GB"]) * 2**30)
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return 16 * 2**30  # a conservative card; set VGG16_ATLAS_MEMORY_GB for bigger ones
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def ascend(cfg: dict, layer_name: str, filters: list[int], out_dir: str | Path) -> list[Path]:
    """Render ``filters`` of ``layer_name`` into ``out_dir/{filter:04d}.png`` and ``.json``."""
    t_start = time.perf_counter()
    resolved = prepare_weights(cfg)
    base = weights.load_base(resolved)
    lyr = vgg16.layer(layer_name)
    model = vgg16.cut_model(base, layer_name, DTYPES[cfg["precision"]])
    batch_size = cfg["batch_size"]
    if batch_size == "auto":
        batch_size = ascent.auto_batch_size(lyr, cfg["size"], memory_bytes())
    renderer = ascent.Renderer(model, lyr, cfg["method"], cfg[cfg["method"]], cfg["size"],
                               resolved.preprocess, cfg["seed"], cfg["jit"],
                               diversity=cfg["diversity"], diversity_weight=cfg["diversity_weight"])
    say(f"{layer_name}: {len(filters)} filters, method {cfg['method']}, {cfg['steps']} steps, "
        f"{cfg['size']} px, batches of {batch_size}, start-up {time.perf_counter() - t_start:.1f} s")
    written = []
    for batch in ascent.batches(filters, max(1, batch_size // cfg["diversity"])):
        label = f"{layer_name} filters {batch[0]}-{batch[-1]}"
        results = renderer.render(batch, cfg["steps"], label=label)
        png_means, png_peaks = renderer.measure(np.stack([r.image for r in results]), batch)
        for r, png_mean, png_peak in zip(results, png_means, png_peaks):
            meta = {
                "layer": layer_name, "filter": r.filter, "method": cfg["method"],
                "steps": cfg["steps"], "size": cfg["size"], "seed": cfg["seed"],
                "settings": cfg[cfg["method"]], "weights": resolved.id,
                "weights_licence": resolved.licence, "preprocess": resolved.preprocess,
                "activation": {"initial": r.initial, "final": r.final,
                               "png": float(png_mean), "png_peak": float(png_peak)},
                # A filter whose rectified output is zero everywhere on its own best image
                # never fires: show it as dead rather than as a meaningless grey square.
                "dead": bool(png_peak <= 0.0),
                "curve": r.curve, "seconds": round(r.seconds, 4), "versions": versions(),
                "diversity": [Path(layout.diverse_png("", layer_name, r.filter, k)).name
                              for k in range(1, len(r.diverse) + 1)],
            }
            for k, image in enumerate(r.diverse, 1):
                written.append(layout.write_png(Path(out_dir) / meta["diversity"][k - 1], image))
            written.append(layout.write_png(Path(out_dir) / f"{r.filter:04d}.png", r.image))
            written.append(layout.write_json(Path(out_dir) / f"{r.filter:04d}.json", meta))
        say(f"{label}: done, activation on saved PNGs {np.round(png_means, 1).tolist()}")
    say(f"{layer_name}: {len(filters)} filters in {time.perf_counter() - t_start:.1f} s")
    return written


def versions() -> dict:
    import keras
    import tensorflow as tf

    return {"pipeline": __version__, "tensorflow": tf.__version__, "keras": keras.__version__}


def dream(cfg: dict, name: str) -> list[Path]:
    """Render the dream called ``name`` into ``{outdir}/dreams/``."""
    from . import dream as dreaming

    spec = next(d for d in cfg["dreams"] if d["name"] == name)
    t0 = time.perf_counter()
    photo = dreaming.fit(dreaming.load_photo(spec["photo"]), spec["size"])
    resolved = prepare_weights(cfg)
    model = vgg16.cut_model(weights.load_base(resolved), spec["layer"])
    dreamer = dreaming.Dreamer(model, spec["filters"], resolved.preprocess, spec["step_size"])
    rng = np.random.default_rng([cfg["seed"], 200, vgg16.layer(spec["layer"]).index])
    say(f"dream {name}: {spec['photo']} {photo.shape[1]}x{photo.shape[0]}, {spec['layer']} "
        f"filters {spec['filters'][:8]}{'...' if len(spec['filters']) > 8 else ''}")
    image = dreamer.dream(photo, spec["steps"], spec["octaves"], spec["octave_scale"], rng, sys.stderr)
    meta = {**spec, "activation": {"photo": dreamer.score(photo), "dream": dreamer.score(image)},
            "weights": resolved.id, "preprocess": resolved.preprocess, "seed": cfg["seed"],
            "seconds": round(time.perf_counter() - t0, 2), "versions": versions()}
    png, original, meta_path = layout.dream_files(cfg["outdir"], name)
    say(f"dream {name}: activation {meta['activation']['photo']:.3g} -> {meta['activation']['dream']:.3g}")
    return [layout.write_png(original, photo), layout.write_png(png, image),
            layout.write_json(meta_path, meta)]


def classes(cfg: dict) -> list[Path]:
    """Maximise every configured class output of the full VGG16, as one batch per step count."""
    from . import objectives

    resolved = prepare_weights(cfg)
    full = vgg16.full_model(weights.classifier_file(resolved, cfg["weights"], say))
    model = vgg16.logits_model(full)
    # The dense layers fix the input at 224 px, so transforms must not pad it.
    knobs = {**cfg[cfg["method"]], **({"pad": 0} if cfg["method"] == "fourier" else {})}
    renderer = ascent.Renderer(model, None, cfg["method"], knobs, vgg16.CLASSIFIER_SIZE,
                               resolved.preprocess, cfg["seed"], cfg["jit"],
                               objective=objectives.class_log_prob)
    written = []
    for steps in sorted({c["steps"] for c in cfg["classes"]}):
        group = [c for c in cfg["classes"] if c["steps"] == steps]
        results = renderer.render([c["class"] for c in group], steps, label=f"classes x{len(group)}")
        probs = np.exp(renderer.measure(np.stack([r.image for r in results]), [c["class"] for c in group])[0])
        for spec, r, prob in zip(group, results, probs):
            meta = {**spec, "method": cfg["method"], "steps": steps, "seed": cfg["seed"],
                    "probability": float(prob), "curve": [(s, float(np.exp(v))) for s, v in r.curve],
                    "weights": resolved.id, "seconds": round(r.seconds, 2), "versions": versions()}
            png, meta_path = layout.class_files(cfg["outdir"], spec["name"])
            written += [layout.write_png(png, r.image), layout.write_json(meta_path, meta)]
            say(f"class {spec['class']} ({spec['name']}): probability {prob:.4f} on the saved PNG")
    return written


def read_filter(outdir: str | Path, layer_name: str, index: int) -> dict:
    with open(layout.filter_json(outdir, layer_name, index)) as fh:
        return json.load(fh)


THUMB = 96          # px: a layer page's tiles
GRID_PREVIEW = 720  # px wide: the network page's preview of each grid


def stitch_grid(cfg: dict, layer_name: str, filters: list[int]) -> Path:
    """The layer's grid PNG, plus the small WebP copies the site's pages load."""
    outdir = cfg["outdir"]
    missing = [f for f in filters if not Path(layout.filter_png(outdir, layer_name, f)).exists()]
    if missing:
        raise AtlasError(f"grid: {layout.filter_png(outdir, layer_name, missing[0])} is missing "
                         f"({len(missing)} of {len(filters)}); render the filters first")
    images = [layout.read_png(layout.filter_png(outdir, layer_name, f)) for f in filters]
    dead = [read_filter(outdir, layer_name, f)["dead"] for f in filters]
    sheet = grid.stitch(images, [str(f) for f in filters], cfg["grid"]["tile"],
                        cfg["grid"]["columns"], dead)
    for f, image in zip(filters, images):
        layout.write_webp(layout.filter_thumb(outdir, layer_name, f), image, THUMB)
    layout.write_webp(layout.grid_thumb(outdir, layer_name), sheet, GRID_PREVIEW)
    return layout.write_png(layout.grid_png(outdir, layer_name), sheet)


def selection_arg(spec: str, layer_name: str) -> list[int] | str:
    """CLI filter syntax: ``all``, ``A:B`` (B excluded), or ``3,7,9``."""
    if spec == "all":
        return "all"
    if ":" in spec:
        lo, hi = spec.split(":", 1)
        lo_i = int(lo) if lo else 0
        hi_i = int(hi) if hi else vgg16.layer(layer_name).filters
        return list(range(lo_i, hi_i))
    return [int(part) for part in spec.split(",") if part.strip()]


def load_cfg(config_file: str | None, settings_json: str | None, overrides: dict) -> dict:
    """The config file (or Snakemake's JSON) with command-line overrides on top, checked."""
    raw = json.loads(settings_json) if settings_json else config.read_yaml(config_file or config.DEFAULT_FILE)
    layers = overrides.get("layers")
    if layers and isinstance(raw.get("filters"), dict):
        # One layer asked for on the command line: keep only its entry of a per-layer mapping.
        raw["filters"] = raw["filters"].get(layers[0], "all")
    return config.check(config.merge(raw, overrides))
