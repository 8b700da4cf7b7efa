"""What each job is given: exactly the settings it uses, typed, built once from the checked config.

Snakemake hands them to a job as JSON in a rule's params, so changing a setting reruns exactly
the jobs that use it. The job rebuilds the dataclass with :func:`from_json` and checks nothing
again: ``config.check`` already did. No field has a default here; the schema is their home.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import methods
from ..images import folder
from ..model import description, weights as weights_files
from ..model.description import Network
from ..output import layout
from . import recipes
from .checked import ClassTarget, Config, Dream


@dataclass(frozen=True)
class WeightsSetting:
    """The network: the ``model``, ``weights``, ``cache``, ``preprocess`` and ``photo_bands`` settings, as given
    (``description.of`` describes the model, ``weights.resolve`` finds the file)."""

    name: str          # torchvision-imagenet | keras-imagenet | a .weights.h5 path
    cache: str | None
    preprocess: str    # auto | preprocess.MODES
    # vgg16 | alexnet | a .keras path. Left out of the JSON as vgg16, as before the setting
    # existed, so that an atlas made then is not rerun for it (to_json).
    model: str = field(default="vgg16", metadata={"implied": "vgg16"})
    # auto | bands.WAYS: how photos become the model's bands; left out of the JSON at auto, so
    # an RGB atlas made before the setting existed is not rerun for it.
    photo_bands: str = field(default="auto", metadata={"implied": "auto"})

    def network(self) -> Network:
        """The model's description: a built-in's from the package, a file's from the cache."""
        return description.of(self.model, weights_files.cache_dir(self.cache))


@dataclass(frozen=True)
class Runtime:
    """Where a job runs and on what: the ``device`` and ``backend`` settings and the network.
    Every job that starts Keras carries one; its JSON keeps the three at the job's top level,
    as they were before they became one value, so no atlas reruns for it."""

    device: str        # auto | gpu | cpu
    backend: str       # tensorflow | jax: Keras' backend for the job
    weights: WeightsSetting


INLINE = {"inline": True}  # a field whose own fields the JSON keeps at its owner's level


@dataclass(frozen=True)
class Ascent:
    """One ascent job's settings: the method, its knobs and where it runs."""

    method: str
    steps: int
    size: int
    seed: int
    diversity: int
    diversity_weight: float
    negative: bool     # also the picture that minimises each filter, in the same job
    batch_size: int | str
    precision: str
    jit: bool
    runtime: Runtime = field(metadata=INLINE)
    # The method's knobs (``methods.get(method).knobs_type``). The JSON keeps them under the
    # method's name (``_plain``).
    knobs: Any = field(metadata={"by_method": True})

    @property
    def weights(self) -> WeightsSetting:
        return self.runtime.weights

    @property
    def backend(self) -> str:
        return self.runtime.backend


@dataclass(frozen=True)
class AscentJob:
    """What one ascent job renders for its chunk: the main method, and the classic comparison
    beside it (``compare_classic``) in the same process, so the two share one start-up."""

    outdir: str
    layer: str
    filters: list[int]
    main: Ascent
    classic: Ascent | None


@dataclass(frozen=True)
class Grid:
    outdir: str
    layer: str
    filters: list[int]
    tile: int
    columns: int


@dataclass(frozen=True)
class Pages:
    """One layer's pages (the layer page and a page per filter)."""

    outdir: str
    title: str
    layer: str
    filters: list[int]
    compare_classic: bool
    neighbours: dict[str, list[int]]  # rendered filters of the conv layers before and after
    examples: bool                    # whether dataset examples were found
    caricatures: bool                 # whether they were accentuated (the caricatures jobs)
    trust: bool                       # whether trust scores were measured (the trust jobs)
    dreams: list[Dream]       # the dreams that used this layer, linked from its filters' pages
    extra_pages: list[str]    # dreams.html, classes.html: linked from every page's header
    base_url: str | None      # the published site's address, for "cite as"
    weights: WeightsSetting   # the network the pages describe


@dataclass(frozen=True)
class Metrics:
    """The table of every filter's numbers, from their records."""

    outdir: str
    filters: dict[str, list[int]]
    examples: bool    # whether dataset examples were found
    trust: bool       # whether trust scores were measured


@dataclass(frozen=True)
class Twins:
    """One layer's search for rotation twins among its rendered filters."""

    outdir: str
    layer: str
    filters: list[int]
    runtime: Runtime = field(metadata=INLINE)


@dataclass(frozen=True)
class Examples:
    """One pass over the examples images for the layers whose examples are missing or out of
    date (``examples*`` in the config; :func:`examples_todo`)."""

    outdir: str
    source: str                      # a folder, or skimage
    fingerprint: str                 # the folder's listing, hashed: new images rerun the job
    side: int
    top: int
    negative: bool
    filters: dict[str, list[int]]    # whose mosaics and JSON to write
    runtime: Runtime = field(metadata=INLINE)


@dataclass(frozen=True)
class Caricatures:
    """One layer's caricatures: each filter's top dataset example accentuated towards it."""

    outdir: str
    layer: str
    filters: list[int]
    steps: int
    tie: float
    size: int
    seed: int
    runtime: Runtime = field(metadata=INLINE)


@dataclass(frozen=True)
class Trust:
    """One layer's trust scores (``measure/trust.py``), from its pictures and dataset examples."""

    outdir: str
    layer: str
    filters: list[int]
    similarity: str    # lpips-vgg, or a .keras embedding model
    seed: int
    runtime: Runtime = field(metadata=INLINE)


@dataclass(frozen=True)
class TrustImages:
    """Any images scored as one filter's positive explanation, against an atlas' pool."""

    trust: Trust
    filter: int
    images: list[str]


@dataclass(frozen=True)
class Site:
    """The network page, the dreams and classes pages, the search index and the static files."""

    outdir: str
    title: str
    filters: dict[str, list[int]]
    dreams: list[str]
    classes: list[str]
    weights: WeightsSetting   # the network the pages describe


@dataclass(frozen=True)
class DreamJob:
    outdir: str
    seed: int
    runtime: Runtime = field(metadata=INLINE)
    dream: Dream


@dataclass(frozen=True)
class Classes:
    outdir: str
    ascent: Ascent
    classes: list[ClassTarget]


# --- from the checked config --------------------------------------------------------------

def weights(cfg: Config) -> WeightsSetting:
    return WeightsSetting(cfg.weights, cfg.cache, cfg.preprocess, cfg.model, cfg.photo_bands)


def runtime(cfg: Config) -> Runtime:
    return Runtime(cfg.device, cfg.backend, weights(cfg))


def ascent(cfg: Config, layer: str | None, method: str | None = None) -> Ascent:
    """The main render of ``layer`` (None: the class logits), or with ``method`` the
    comparison render beside it (Chollet's classic at its own steps, one image per filter)."""
    entry = methods.get(method or cfg.method)
    compare = entry.name != cfg.method
    knobs = entry.knobs(cfg, cfg.network.depth(layer) if layer else None)
    return Ascent(
        method=entry.name, steps=entry.steps(knobs) if compare or cfg.steps == "auto" else cfg.steps,
        size=cfg.size, seed=cfg.seed, diversity=1 if compare else cfg.diversity,
        diversity_weight=cfg.diversity_weight, negative=cfg.negative and not compare and layer is not None,
        batch_size=cfg.batch_size, precision=cfg.precision, jit=cfg.jit, runtime=runtime(cfg), knobs=knobs)


def ascent_job(cfg: Config, layer: str, filters: list[int]) -> AscentJob:
    """The ascent job of ``filters`` of ``layer`` (a chunk, see :func:`chunks`)."""
    return AscentJob(cfg.outdir, layer, filters, ascent(cfg, layer),
                     ascent(cfg, layer, methods.COMPARISON) if cfg.compare_classic else None)


def grid(cfg: Config, layer: str) -> Grid:
    return Grid(cfg.outdir, layer, cfg.filters[layer], cfg.grid["tile"], cfg.grid["columns"])


def pages(cfg: Config, layer: str) -> Pages:
    used = [d for d in cfg.dreams if d.layer == layer]
    return Pages(cfg.outdir, cfg.title, layer, cfg.filters[layer], cfg.compare_classic,
                 neighbours(cfg, layer), cfg.examples != "none", cfg.caricatures, trusting(cfg), used,
                 layout.extra_pages(bool(cfg.dreams), bool(cfg.classes)),
                 cfg.base_url, weights(cfg))


def metrics(cfg: Config) -> Metrics:
    return Metrics(cfg.outdir, cfg.filters, cfg.examples != "none", trusting(cfg))


def trusting(cfg: Config) -> bool:
    """Trust scores need dataset examples: their queries and natural references."""
    return cfg.trust and cfg.examples != "none"


def neighbours(cfg: Config, layer: str) -> dict[str, list[int]]:
    """The selected filters of the conv layers just before and after ``layer``: the filters
    whose pages a circuit can link to."""
    net = cfg.network
    lyr = net.layer(layer)
    near = [lyr.reads] + [after.name for after in net.after(layer)]
    return {name: cfg.filters[name] for name in near if name in cfg.filters}


def twins(cfg: Config, layer: str) -> Twins:
    return Twins(cfg.outdir, layer, cfg.filters[layer], runtime(cfg))


def examples(cfg: Config, layers: list[str]) -> Examples:
    """The scan that finds the dataset examples of ``layers``, in one pass."""
    return Examples(cfg.outdir, cfg.examples, folder.fingerprint(cfg.examples), cfg.examples_side,
                    cfg.examples_top, cfg.examples_negative, {name: cfg.filters[name] for name in layers},
                    runtime(cfg))


def examples_layer(e: Examples, layer: str) -> dict:
    """What decides one layer's dataset examples: a scan's settings, narrowed to that layer.
    Its manifest keeps them, and :func:`examples_todo` compares them."""
    return _plain(dataclasses.replace(e, filters={layer: e.filters[layer]}))


def examples_todo(cfg: Config) -> list[str]:
    """The selected layers whose dataset examples are missing or were found with other settings
    (new images, another side or top, other filters), in network order. One scan finds them
    all; a layer added later is scanned alone, and the others' examples, with everything that
    reads them (trust, caricatures, pages), stay as they are."""
    if cfg.examples == "none":
        return []
    scan = examples(cfg, list(cfg.filters))
    return [name for name in cfg.filters
            if _read_json(layout.examples_manifest(cfg.outdir, name)).get("settings") != examples_layer(scan, name)]


def _read_json(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def caricatures(cfg: Config, layer: str) -> Caricatures:
    return Caricatures(cfg.outdir, layer, cfg.filters[layer], cfg.caricatures_steps, cfg.caricatures_tie,
                       cfg.size, cfg.seed, runtime(cfg))


def trust(cfg: Config, layer: str) -> Trust:
    return Trust(cfg.outdir, layer, cfg.filters[layer], cfg.trust_similarity, cfg.seed, runtime(cfg))


def site(cfg: Config) -> Site:
    return Site(cfg.outdir, cfg.title, cfg.filters,
                [d.name for d in cfg.dreams], [c.name for c in cfg.classes], weights(cfg))


def dream(cfg: Config, name: str) -> DreamJob:
    spec = next(d for d in cfg.dreams if d.name == name)
    return DreamJob(cfg.outdir, cfg.seed, runtime(cfg), spec)


def classes(cfg: Config) -> Classes:
    return Classes(cfg.outdir, ascent(cfg, None), list(cfg.classes))


def chunks(cfg: Config) -> dict[tuple[str, int], list[int]]:
    """(layer, first filter) -> the filters of that ascent job, in network order."""
    out = {}
    for layer, filters in cfg.filters.items():
        size = recipes.chunk_size(cfg.chunk_size, cfg.network.layer(layer))
        for i in range(0, len(filters), size):
            out[(layer, filters[i])] = filters[i:i + size]
    return out


# --- to and from the JSON a rule hands its job ----------------------------------------------

def to_json(settings) -> str:
    return json.dumps(_plain(settings), sort_keys=True, separators=(",", ":"))


# The methods an ascent's JSON named when it held every method's knobs, each but its own as
# null (0.2): kept so, so that an atlas made then reruns nothing. Later methods name only theirs.
FORMER_METHODS = ("classic", "fourier", "maco")


def _plain(value):
    """``dataclasses.asdict``, but a field marked ``implied`` is left out at that value, an
    ``inline`` field's fields sit at its owner's level, and a method's knobs under its name."""
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.metadata.get("inline"):
                out.update(_plain(v))
            elif f.metadata.get("by_method"):
                out.update({name: None for name in FORMER_METHODS}, **{value.method: _plain(v)})
            elif "implied" not in f.metadata or v != f.metadata["implied"]:
                out[f.name] = _plain(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def from_json(cls, text: str):
    return _build(cls, json.loads(text))


def _build(kind, data):
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _field(f, hints[f.name], data) for f in dataclasses.fields(kind)
                       if f.name in data or "implied" not in f.metadata})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        real = [a for a in args if a is not type(None)]
        return _build(real[0], data) if len(real) == 1 or dataclasses.is_dataclass(real[0]) else data
    if origin is list:
        return [_build(args[0], v) for v in data]
    if origin is tuple:
        return tuple(_build(a, v) for a, v in zip(args, data))
    if origin is dict:
        return {k: _build(args[1], v) for k, v in data.items()}
    return data


def _field(f: dataclasses.Field, kind, data: dict):
    """One field of a dataclass from its owner's JSON (see :func:`_plain`)."""
    if f.metadata.get("inline"):
        return _build(kind, data)
    if f.metadata.get("by_method"):
        return _build(methods.get(data["method"]).knobs_type, data[data["method"]])
    return _build(kind, data[f.name])
