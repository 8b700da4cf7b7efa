"""The configuration: read once, coerced, checked once against the schema, filled in once.

Every check happens here, before any compute, and every failure is one :class:`AtlasError`
line that names the setting, the value and what is allowed. What comes out is a plain dict
with every default from ``config.schema.yaml`` (the only home of defaults); ``settings``
turns it into the typed settings each job receives.

Snakemake's ``--config key=value`` parses anything inside a list or a mapping as a string
(``filters=[0,7]`` arrives as ``['0', '7']``) and reads only ``True``/``False`` as booleans.
:func:`coerce` reads such strings as YAML wherever the schema wants something else, so
every setting can be written on the command line the way users type it.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import AtlasError
from .vgg16 import BY_NAME, LAYERS, ConvLayer

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config.yaml"
# What 'auto' means for steps and for the fourier settings, per schedule. 'lucid' is Lucid's
# recipe, the atlas default until 0.2. The default, schedule 'auto', reaches 90% of its
# activation or more in a quarter of its time at every block (bench/convergence.py,
# docs/benchmarks.md): 'cosine' in blocks 1-4; 'wsd' in block 5, where cosine reaches 83%.
# wsd's finer spectrum (cutoff) would put high-frequency noise into blocks 1-4's pictures.
RECIPES = {
    "cosine": {"steps": 160, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.22, "jitter": 8, "rotate": 10},
    "wsd": {"steps": 150, "lr": 0.5, "pad": 0, "canvas": "mean", "cutoff": 0.27, "jitter": 12, "rotate": 15},
    "lucid": {"steps": 512, "lr": 0.05, "pad": 12, "canvas": "reflect", "cutoff": 0.22, "jitter": 8, "rotate": 10},
}
CLASSIC_STEPS = 20


def schedule(name: str, layer: str | None) -> str:
    """The schedule a layer runs: ``auto`` is 'wsd' in block 5 and 'cosine' before it. The
    class logits (``layer`` None) keep 'cosine': wsd, tuned on block 5's filters, overshoots
    them (a class's probability fell from above 0.99 to nothing in 24 steps)."""
    if name != "auto":
        return name
    return "wsd" if layer and BY_NAME[layer].block == 5 else "cosine"


def default_steps(method: str, schedule: str | None = None) -> int:
    return CLASSIC_STEPS if method == "classic" else RECIPES[schedule]["steps"]


def for_layer(cfg: dict, layer: str | None) -> tuple[int, dict]:
    """A layer's steps and fourier settings, each 'auto' replaced by its schedule's value."""
    fourier = {**cfg["fourier"], "schedule": schedule(cfg["fourier"]["schedule"], layer)}
    own = RECIPES[fourier["schedule"]]
    fourier.update({key: own[key] for key, value in fourier.items() if value == "auto"})
    steps = default_steps(cfg["method"], fourier["schedule"]) if cfg["steps"] == "auto" else cfg["steps"]
    return steps, fourier


@lru_cache(maxsize=1)
def schema() -> dict:
    """The schema with its ``$ref``s inlined, so any part of it validates on its own."""
    with open(SCHEMA_FILE) as fh:
        raw = yaml.safe_load(fh)

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                target = raw
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return inline({**target, **{k: v for k, v in node.items() if k != "$ref"}})
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(raw)


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
    """``override`` on top of ``base``; a nested mapping changes only the keys it names."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _valid(value, sch: dict) -> bool:
    import jsonschema

    return jsonschema.Draft202012Validator(sch).is_valid(value)


def coerce(value, sch: dict):
    """``value`` with strings read as YAML wherever ``sch`` wants another type.

    A value the schema already accepts is kept as it is (``title: "42"`` stays text); a
    value that no reading makes valid is kept too, so the error quotes what the user typed.
    """
    if _valid(value, sch):
        return value
    for branch in sch.get("oneOf", []) + sch.get("anyOf", []):
        fixed = coerce(value, branch)
        if _valid(fixed, branch):
            return fixed
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return coerce(parsed, sch) if not isinstance(parsed, str) else value
    if isinstance(value, dict):
        props, extra = sch.get("properties", {}), sch.get("additionalProperties")
        return {k: coerce(v, props.get(k, extra if isinstance(extra, dict) else {}))
                for k, v in value.items()}
    if isinstance(value, list) and isinstance(sch.get("items"), dict):
        return [coerce(v, sch["items"]) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and sch.get("type") == "string":
        return str(value)  # title=2024 on the command line
    return value


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
        elif isinstance(part, str) and isinstance(node.get("additionalProperties"), dict):
            node, name, here = node["additionalProperties"], f"{name}.{part}".lstrip("."), here[part]
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
    cfg = coerce(copy.deepcopy(raw), sch)
    message = _schema_error(cfg, sch)
    if message:
        raise AtlasError(message)
    _fill_defaults(cfg, sch)
    if cfg["method"] == "classic":
        cfg["compare_classic"] = False  # it would be the same image twice
    low, high = cfg["fourier"]["scale"]
    if low > high:
        raise AtlasError(f"config: fourier.scale = {[low, high]!r} is not allowed; expected [low, high] with low <= high")
    if cfg["layers"] == "all":
        cfg["layers"] = [lyr.name for lyr in LAYERS]
    else:  # network order, whatever order they were listed in
        cfg["layers"] = [lyr.name for lyr in LAYERS if lyr.name in cfg["layers"]]
    cfg["filters"] = _selection(cfg["filters"], cfg["layers"])
    _check_extras(cfg)
    _check_weights(cfg)
    from .examples import check as check_examples

    check_examples(cfg["examples"])
    return cfg


def _check_weights(cfg: dict) -> None:
    from . import weights

    spec = cfg["weights"]
    resolved = weights.resolve(spec, weights.cache_dir(cfg["cache"]), cfg["preprocess"])
    if spec not in weights.NAMES and not resolved.file.exists():
        raise AtlasError(f"config: weights = {spec!r}: file does not exist; expected "
                         f"{weights.DEFAULT!r}, {weights.KERAS!r} or a path to a .weights.h5 file")
    if cfg["classes"] and spec != weights.KERAS:
        # No classifier in the default weights or in a conv-only file: one line, now. (Keras'
        # full download is checked when the classes job fetches it.)
        weights.classifier_file(resolved, spec)


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


def _selection(choice, layers: list[str]) -> dict[str, list[int]]:
    """The ``filters`` setting as layer name -> the filter indices to render, network order."""
    if isinstance(choice, dict):
        unknown = [name for name in choice if name not in BY_NAME]
        if unknown:
            raise AtlasError(f"config: filters has unknown layer {unknown[0]!r}; expected VGG16 conv "
                             "layer names (block1_conv1 ... block5_conv3)")
        missing = [name for name in choice if name not in layers]
        if missing:
            raise AtlasError(f"config: filters names {missing[0]!r}, which is not in layers "
                             f"{layers!r}; add it to layers or remove it from filters")
        return {name: _filters_for(choice.get(name, "all"), BY_NAME[name], f"filters.{name}")
                for name in layers}
    if isinstance(choice, list):
        # One list for every layer: each layer renders the indices it has (filters=[0,7,100]
        # means 100 where there is a filter 100); an index no selected layer has is an error.
        most = max(BY_NAME[name].filters for name in layers)
        bad = [f for f in choice if f >= most]
        if bad:
            raise AtlasError(f"config: filters = {bad[0]} is out of range for every selected layer; "
                             f"expected 0 to {most - 1}")
        picked = {name: sorted(f for f in choice if f < BY_NAME[name].filters) for name in layers}
        return {name: fs for name, fs in picked.items() if fs}
    return {name: _filters_for(choice, BY_NAME[name], "filters") for name in layers}


def load(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """``config.yaml`` (or ``path``) with ``overrides`` on top, checked."""
    return check(merge(read_yaml(path or DEFAULT_FILE), overrides or {}))
