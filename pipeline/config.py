"""The configuration: read, merged, checked against the schema, and turned into a plan.

Every check happens here, before any compute, and every failure is one :class:`AtlasError`
line that names the setting, the value and what is allowed.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import yaml

from .errors import AtlasError
from .vgg16 import BY_NAME, LAYERS, ConvLayer

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config.yaml"
METHOD_STEPS = {"fourier": 512, "classic": 20}
MAX_CHUNK = 256


def schema() -> dict:
    with open(SCHEMA_FILE) as fh:
        return yaml.safe_load(fh)


def read_yaml(path: str | Path) -> dict:
    """A YAML config file as a dict, or one line saying where it is malformed."""
    path = Path(path)
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise AtlasError(f"config: file {str(path)!r} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AtlasError(f"config: {path} is not valid YAML{where} ({problem}); "
                         "fix the file (YAML mappings of 'setting: value')") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AtlasError(f"config: {path} must be a mapping of 'setting: value', "
                         f"not a {type(data).__name__}")
    return data


def merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``, nested mappings merged key by key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _fill_defaults(node: dict, sch: dict) -> None:
    for key, prop in sch.get("properties", {}).items():
        if key not in node and "default" in prop:
            node[key] = copy.deepcopy(prop["default"])
        if isinstance(node.get(key), dict) and "properties" in prop:
            _fill_defaults(node[key], prop)
        if isinstance(node.get(key), list) and "properties" in prop.get("items", {}):
            for item in node[key]:
                _fill_defaults(item, prop["items"])


def _schema_error(raw: dict, sch: dict) -> str | None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(sch)
    error = jsonschema.exceptions.best_match(validator.iter_errors(raw))
    if error is None:
        return None
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.absolute_path == error.relative_path:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = ".".join(str(p) for p in path)
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return (f"config: unknown setting {(where + '.' if where else '') + extra[0]!r}; "
                f"allowed{' in ' + where if where else ''}: {allowed}")
    # Walk the schema along the path to the deepest property that describes itself.
    node, described, name, value, here = sch, None, "", raw, raw
    for part in path:
        if isinstance(part, str) and part in node.get("properties", {}):
            node, name, here = node["properties"][part], f"{name}.{part}".lstrip("."), here[part]
        elif isinstance(part, int) and "items" in node:
            node, name, here = node["items"], f"{name}[{part}]", here[part]
        else:
            break
        if "description" in node:
            described, value = (name, node["description"]), here
    setting, allowed = described or (".".join(str(p) for p in path) or "config", error.message)
    return f"config: {setting} = {value!r} is not allowed; expected {allowed}"


def check(raw: dict) -> dict:
    """The checked config with every default filled in, or an :class:`AtlasError`."""
    if not isinstance(raw, dict):
        raise AtlasError(f"config: must be a mapping of 'setting: value', not {raw!r}")
    sch = schema()
    message = _schema_error(raw, sch)
    if message:
        raise AtlasError(message)
    cfg = copy.deepcopy(raw)
    _fill_defaults(cfg, sch)
    if cfg["steps"] == "auto":
        cfg["steps"] = METHOD_STEPS[cfg["method"]]
    if cfg["method"] == "classic":
        cfg["compare_classic"] = False  # it would be the same image twice
    low, high = cfg["fourier"]["scale"]
    if low > high:
        raise AtlasError(f"config: fourier.scale = {[low, high]!r} is not allowed; expected [low, high] with low <= high")
    if cfg["layers"] == "all":
        cfg["layers"] = [lyr.name for lyr in LAYERS]
    else:  # network order, whatever order they were listed in
        cfg["layers"] = [lyr.name for lyr in LAYERS if lyr.name in cfg["layers"]]
    selection(cfg)  # raises on out-of-range filters
    _check_extras(cfg)
    weights_spec = cfg["weights"]
    from . import weights

    resolved = weights.resolve(weights_spec, weights.cache_dir(cfg["cache"]), cfg["preprocess"])
    if weights_spec not in weights.NAMES and not resolved.file.exists():
        raise AtlasError(f"config: weights = {weights_spec!r}: file does not exist; expected "
                         f"{weights.DEFAULT!r}, {weights.KERAS!r} or a path to a .weights.h5 file")
    if cfg["classes"] and weights_spec != weights.KERAS:
        # No classifier in the default weights or in a conv-only file: one line, now. (Keras'
        # full download is checked when the classes job fetches it.)
        weights.classifier_file(resolved, weights_spec)
    return cfg


def _check_extras(cfg: dict) -> None:
    """Dreams and classes: unique names, filters in range, photos that exist."""
    from .dream import SKIMAGE

    for section in ("dreams", "classes"):
        names = [item["name"] for item in cfg[section]]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise AtlasError(f"config: {section} name {dup[0]!r} is used twice; names must be unique")
    for i, d in enumerate(cfg["dreams"]):
        d["filters"] = _filters_for(d["filters"], BY_NAME[d["layer"]], f"dreams[{i}].filters")
        photo = d["photo"]
        if photo.startswith(SKIMAGE):
            import skimage.data

            if not callable(getattr(skimage.data, photo[len(SKIMAGE):], None)):
                raise AtlasError(f"config: dreams[{i}].photo = {photo!r} is not a skimage.data "
                                 "image; expected a file path or e.g. skimage:chelsea")
        elif not Path(photo).expanduser().is_file():
            raise AtlasError(f"config: dreams[{i}].photo = {photo!r} does not exist; expected an "
                             "image file path or skimage:NAME")


def _filters_for(choice, lyr: ConvLayer, setting: str) -> list[int]:
    if choice == "all":
        return list(range(lyr.filters))
    if isinstance(choice, int):  # a count: the first N, all of them where the layer has fewer
        return list(range(min(choice, lyr.filters)))
    bad = [f for f in choice if f >= lyr.filters]
    if bad:
        raise AtlasError(f"config: {setting} = {bad[0]} is out of range for {lyr.name}; "
                         f"expected 0 to {lyr.filters - 1}")
    return sorted(choice)


def selection(cfg: dict) -> dict[str, list[int]]:
    """Layer name -> the filter indices to render, in network order."""
    choice = cfg["filters"]
    if isinstance(choice, dict):
        unknown = [name for name in choice if name not in BY_NAME]
        if unknown:
            raise AtlasError(f"config: filters has unknown layer {unknown[0]!r}; expected VGG16 conv "
                             "layer names (block1_conv1 ... block5_conv3)")
        missing = [name for name in choice if name not in cfg["layers"]]
        if missing:
            raise AtlasError(f"config: filters names {missing[0]!r}, which is not in layers "
                             f"{cfg['layers']!r}; add it to layers or remove it from filters")
    out = {}
    for name in cfg["layers"]:
        lyr = BY_NAME[name]
        if isinstance(choice, dict):
            out[name] = _filters_for(choice.get(name, "all"), lyr, f"filters.{name}")
        else:
            out[name] = _filters_for(choice, lyr, "filters")
    return out


def chunk_size(cfg: dict, lyr: ConvLayer) -> int:
    """Filters per ascent job: whole layers up to 256 filters, larger layers split evenly.

    A job pays a fixed start (importing TensorFlow, loading 58 MB of weights, compiling the
    step) of several seconds; a chunk this size keeps that a small share of the job.
    """
    if cfg["chunk_size"] != "auto":
        return int(cfg["chunk_size"])
    return math.ceil(lyr.filters / math.ceil(lyr.filters / MAX_CHUNK))


def chunks(cfg: dict) -> list[tuple[str, list[int]]]:
    """(layer, filters) for every ascent job, in network order."""
    out = []
    for name, filters in selection(cfg).items():
        size = chunk_size(cfg, BY_NAME[name])
        out += [(name, filters[i:i + size]) for i in range(0, len(filters), size)]
    return out


def _job(cfg: dict, keys: tuple[str, ...], **extra) -> dict:
    """The part of the config one kind of job depends on. Snakemake reruns a job when its
    params change, so each job gets exactly its inputs and no more; dreams and classes are
    emptied unless the job is theirs."""
    return {**{key: cfg[key] for key in keys}, "dreams": [], "classes": [], **extra}


def weights_settings(cfg: dict) -> dict:
    return _job(cfg, ("weights", "cache", "preprocess"))


def ascent_settings(cfg: dict) -> dict:
    """A change to any of these reruns the ascent jobs."""
    keys = ("method", "steps", "size", "seed", "weights", "preprocess", "cache", "batch_size", "jit",
            "precision", "diversity", "diversity_weight")
    return _job(cfg, keys, **{cfg["method"]: cfg[cfg["method"]]})


def classic_settings(cfg: dict) -> dict:
    """The comparison render: the seeds' method at its own default steps, one image per filter."""
    return ascent_settings({**cfg, "method": "classic", "steps": METHOD_STEPS["classic"], "diversity": 1})


def grid_settings(cfg: dict, layer_name: str, filters: list[int]) -> dict:
    return _job(cfg, ("outdir", "grid", "weights", "cache"), layers=[layer_name], filters=filters)


def dream_settings(cfg: dict, spec: dict) -> dict:
    return _job(cfg, ("outdir", "seed", "weights", "cache", "preprocess"), dreams=[spec])


def class_settings(cfg: dict) -> dict:
    return {**ascent_settings(cfg), "outdir": cfg["outdir"], "classes": cfg["classes"]}


def load(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """``config.yaml`` (or ``path``) with ``overrides`` on top, checked."""
    raw = read_yaml(path or DEFAULT_FILE)
    return check(merge(raw, overrides or {}))
