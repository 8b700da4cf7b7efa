"""The configuration: read once, coerced, checked once against the schema, filled in once.

Every check happens here, before any compute, and every failure is one :class:`AtlasError`
line that names the setting, the value and what is allowed. What comes out is a plain dict
with every default from ``schema.yaml`` (the only home of defaults); ``settings`` turns it
into the typed settings each job receives, and ``recipes`` says what each ``auto`` means.

Snakemake's ``--config key=value`` parses anything inside a list or a mapping as a string
(``filters=[0,7]`` arrives as ``['0', '7']``) and reads only ``True``/``False`` as booleans.
:func:`coerce` reads such strings as YAML wherever the schema wants something else, so
every setting can be written on the command line the way users type it.
"""

from __future__ import annotations

import copy
import difflib
import importlib.util
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from .. import methods
from ..errors import AtlasError
from ..images import bands, folder, photos
from ..model import description, weights
from ..model.builtins import BUILT_IN
from ..model.description import Network, unknown_layer
from ..model.preprocess import BAND_WISE, MODES
from .checked import Config
from .selection import filters_for, selection

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config.yaml"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The schema with its ``$ref``s inlined, so any part of it validates on its own, and the
    methods' part filled in from their registry: the ``method`` setting's values and each
    method's own section."""
    with open(SCHEMA_FILE) as fh:
        raw = yaml.safe_load(fh)
    props = {}
    for key, value in raw["properties"].items():
        props[key] = value
        if key == "grid":  # the methods' sections follow the grid's, as in config.yaml
            props.update(methods.sections())
    entries = [m.describe() for m in methods.REGISTRY.values()]
    props["method"] = {**props["method"], "enum": list(methods.REGISTRY),
                       "description": ", ".join(entries[:-1]) + " or " + entries[-1]}
    raw = {**raw, "properties": props}

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


def did_you_mean(value, allowed, before: str = "; ", after: str = "") -> str:
    """"; did you mean 'x'?" for the closest allowed word, or nothing."""
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"{before}did you mean {close[0]!r}?{after}" if close else ""


def _schema_error(raw: dict, sch: dict) -> str | None:
    validator = jsonschema.Draft202012Validator(sch)
    error = jsonschema.exceptions.best_match(validator.iter_errors(raw))
    if error is None:
        return None
    if error.validator == "additionalProperties" and error.absolute_path == error.relative_path:
        return _unknown_setting(error)
    # A word that is not one of a list's words: name that word, wherever it sits.
    error = _wrong_word(error) or error
    path = list(error.absolute_path)
    # Walk the schema along the path to the deepest property that describes itself.
    node, described, name, value, here = sch, None, "", raw, raw
    for part in path:
        node = _branch(node, part)
        if isinstance(part, str) and part in node.get("properties", {}):
            node, name, here = node["properties"][part], f"{name}.{part}".lstrip("."), here[part]
        elif isinstance(part, str) and isinstance(node.get("additionalProperties"), dict):
            node, name, here = node["additionalProperties"], f"{name}.{part}".lstrip("."), here[part]
        elif isinstance(part, int) and "items" in node:
            node, name, here = node["items"], f"{name}[{part}]", here[part]
        else:
            break
        if "description" in node or (isinstance(part, int) and error.validator in ("enum", "const")):
            described, value = (name, node.get("description") or _words(_allowed(error))), here
    setting, allowed = described or (".".join(str(p) for p in path) or "config", error.message)
    hint = did_you_mean(error.instance, _allowed(error)) if error.validator in ("enum", "const") else ""
    return f"config: {setting} = {value!r} is not allowed; expected {allowed}{hint}"


def _unknown_setting(error) -> str:
    extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
    where = ".".join(str(p) for p in error.absolute_path)
    known = sorted(error.schema.get("properties", {}))
    return (f"config: unknown setting {(where + '.' if where else '') + extra[0]!r}"
            f"{did_you_mean(extra[0], known, ' (', ')')}; allowed{' in ' + where if where else ''}: {', '.join(known)}")


def _wrong_word(error):
    """The deepest error below ``error`` that is a string outside an ``enum`` (an item of a list
    of names, say), or None."""
    found = None
    for sub in [error, *error.context]:
        if sub.validator in ("enum", "const") and isinstance(sub.instance, str):
            if found is None or len(sub.absolute_path) > len(found.absolute_path):
                found = sub
        deeper = _wrong_word(sub) if sub is not error else None
        if deeper is not None and (found is None or len(deeper.absolute_path) > len(found.absolute_path)):
            found = deeper
    return found


def _branch(node: dict, part) -> dict:
    """The branch of a oneOf/anyOf that a path step can enter (a list's items, a mapping's keys)."""
    for branch in node.get("oneOf", []) + node.get("anyOf", []):
        if (isinstance(part, int) and "items" in branch) or (isinstance(part, str) and (
                part in branch.get("properties", {}) or isinstance(branch.get("additionalProperties"), dict))):
            return {**branch, "description": node["description"]} if "description" in node else branch
    return node


def _allowed(error) -> list:
    return error.validator_value if error.validator == "enum" else [error.validator_value]


def _words(values) -> str:
    return "one of " + ", ".join(str(v) for v in values)


def check(raw: dict) -> Config:
    """The checked config, typed, with every default filled in, or an :class:`AtlasError`."""
    if not isinstance(raw, dict):
        raise AtlasError(f"config: must be a mapping of 'setting: value', not {raw!r}")
    sch = schema()
    cfg = coerce(copy.deepcopy(raw), sch)
    message = _schema_error(cfg, sch)
    if message:
        raise AtlasError(message)
    _fill_defaults(cfg, sch)
    cfg["notes"] = []  # what the check decided for the user, each said in one line
    if cfg["method"] == methods.COMPARISON:
        cfg["compare_classic"] = False  # it would be the same image twice
    net = cfg["network"] = _network(cfg, raw)
    if cfg["layers"] == "all":
        cfg["layers"] = [lyr.name for lyr in net.layers]
    else:  # network order, whatever order they were listed in
        for name in cfg["layers"]:
            net.by_name.get(name) or _fail(unknown_layer(net, name, "layers"))
        cfg["layers"] = [lyr.name for lyr in net.layers if lyr.name in cfg["layers"]]
    cfg["filters"] = selection(net, cfg["filters"], cfg["layers"])
    _check_extras(cfg, net)
    _check_weights(cfg)
    if cfg["backend"] == "jax" and importlib.util.find_spec("jax") is None:
        raise AtlasError("config: backend = 'jax', but JAX is not installed here; install it with "
                         "`pip install -r requirements-jax.txt` (a GPU box: JAX's CUDA build), or set "
                         "backend to tensorflow")
    folder.check(cfg["examples"])
    if cfg["caricatures"] and cfg["examples"] == folder.NONE:
        raise AtlasError("config: caricatures = True is not allowed with examples = 'none'; expected a "
                         "folder of images or 'skimage' for examples, or caricatures = False")
    similarity = cfg["trust_similarity"]
    if similarity != "lpips-vgg" and not (similarity.endswith(".keras") and Path(similarity).expanduser().is_file()):
        raise AtlasError(f"config: trust_similarity = {similarity!r} is not allowed; expected 'lpips-vgg' "
                         "or the path of an existing .keras embedding model")
    checked = Config.of(cfg, tuple(methods.sections()))
    message = methods.get(checked.method).check(checked)
    if message:
        raise AtlasError(message)
    return checked


def _fail(message: str):
    raise AtlasError(message)


def _network(cfg: dict, raw: dict) -> Network:
    """The description of the ``model`` setting, and the settings that depend on it checked:
    ``preprocess`` (a file must say it), ``size`` (a fixed input takes its own), ``weights`` and
    the default ``title``."""
    net = description.of(cfg["model"], weights.cache_dir(cfg["cache"]))
    if description.is_file(cfg["model"]):
        if cfg["preprocess"] == "auto":
            takes = MODES if net.channels == 3 else BAND_WISE  # torch and caffe scale three colours
            _fail(f"config: preprocess = 'auto' is not allowed with model = {cfg['model']!r}: only the built-in "
                  "networks' is known; expected one of " + ", ".join(f"{k} ({MODES[k]})" for k in takes))
        if net.scales_input and cfg["preprocess"] != "raw":
            cfg["notes"].append(f"note: {net.name} scales its own input (a Rescaling or Normalization layer before its "
                                f"first conv), and preprocess = {cfg['preprocess']!r} scales it again; a model that "
                                "scales itself usually wants preprocess = 'raw' (pixels in [0, 255])")
        if raw.get("weights", weights.DEFAULT) != weights.DEFAULT:
            _fail(f"config: weights = {raw['weights']!r} is not allowed with model = {cfg['model']!r}: a .keras "
                  "file carries its own weights; expected weights left unset")
    _check_bands(cfg, net)
    # A fixed input size is the model's, not a choice: its pictures are drawn at the size it was
    # trained on. Its convs take any size (``graph.rebuild``), so dreams, examples and trust run.
    cfg["size"] = net.input_size or cfg["size"]
    cfg["title"] = cfg["title"] or f"{net.name} Atlas"
    if cfg["size"] < net.min_size:
        _fail(f"config: size = {cfg['size']} is not allowed for {net.name}: its deepest layers need "
              f"{net.min_size} px or more; expected {net.min_size} to 1024")
    return net


def _check_bands(cfg: dict, net: Network) -> None:
    """``photo_bands`` and ``preprocess`` for a model whose input is not three bands."""
    why = bands.problem(net.channels, cfg["photo_bands"])
    if why:
        _fail(f"config: photo_bands = {cfg['photo_bands']!r} is not allowed with model = {cfg['model']!r}: it {why}")
    if cfg["photo_bands"] == bands.Bands.of(net.channels, "auto").way:
        cfg["photo_bands"] = "auto"  # what auto says, said: the same jobs, nothing rerun
    if net.channels != 3 and cfg["preprocess"] not in BAND_WISE:
        _fail(f"config: preprocess = {cfg['preprocess']!r} is not allowed with model = {cfg['model']!r}: it scales "
              f"three colour channels and this model takes {net.channels} band{'s' if net.channels > 1 else ''}; "
              "expected one of " + ", ".join(f"{k} ({MODES[k]})" for k in BAND_WISE))


def _check_weights(cfg: dict) -> None:
    spec, net = cfg["weights"], cfg["network"]
    entry = BUILT_IN.get(net.model)
    if entry and not entry.keras_weights and spec == weights.KERAS:
        _fail(f"config: weights = {spec!r} is not allowed with model = {net.model!r} (Keras ships no {entry.title} "
              f"weights); expected {weights.DEFAULT!r} or a path to a .weights.h5 file")
    resolved = weights.resolve(spec, weights.cache_dir(cfg["cache"]), cfg["preprocess"], net)
    if spec not in weights.NAMES and not resolved.file.exists():
        raise AtlasError(f"config: weights = {spec!r}: file does not exist; expected "
                         f"{weights.DEFAULT!r}, {weights.KERAS!r} or a path to a .weights.h5 file")
    if cfg["classes"] and not (entry and entry.classifier):
        with_one = " or ".join(repr(e.name) for e in BUILT_IN.values() if e.classifier)
        _fail(f"config: classes are not allowed with model = {net.model!r}: class images need a classifier "
              f"this atlas can load ({with_one}); expected classes = [] (none)")
    if cfg["classes"] and spec != weights.KERAS:
        # No classifier in the default weights or in a conv-only file: one line, now. (Keras'
        # full download is checked when the classes job fetches it.)
        weights.classifier_file(resolved, spec)


def _check_extras(cfg: dict, net: Network) -> None:
    """Dreams and classes: unique names, filters in range, photos that exist."""
    for section in ("dreams", "classes"):
        names = [item["name"] for item in cfg[section]]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise AtlasError(f"config: {section} name {dup[0]!r} is used twice; names must be unique")
    for i, d in enumerate(cfg["dreams"]):
        d["layer"] = net.layers[-1].name if d["layer"] == "last" else d["layer"]
        lyr = net.by_name.get(d["layer"]) or _fail(unknown_layer(net, d["layer"], f"dreams[{i}].layer"))
        d["filters"] = filters_for(d["filters"], lyr, f"dreams[{i}].filters")
        photos.check(d["photo"], f"config: dreams[{i}].photo")


def load(path: str | Path | None = None, overrides: dict | None = None) -> Config:
    """``config.yaml`` (or ``path``) with ``overrides`` on top, checked."""
    return check(merge(read_yaml(path or DEFAULT_FILE), overrides or {}))
