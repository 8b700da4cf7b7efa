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

from ..images import folder
from ..model import description, weights as weights_files
from ..model.description import Network
from ..output import layout
from . import recipes


@dataclass(frozen=True)
class FourierSettings:
    """Lucid's parameterisation and transforms (``fourier.*`` in the config)."""

    schedule: str
    lr: float
    decay: float
    cutoff: float
    init_sd: float
    pad: int
    jitter: float
    scale: tuple[float, float]
    rotate: float
    canvas: str


@dataclass(frozen=True)
class MacoSettings:
    """MaCo (Fel et al. 2023): the phase is optimised over a fixed natural magnitude spectrum,
    with the fourier method's schedule, rate and moves (``fourier.*``) and ``maco.*``."""

    schedule: str
    lr: float
    pad: int
    jitter: float
    scale: tuple[float, float]
    rotate: float
    canvas: str
    spectrum: str      # skimage | a folder of images
    fingerprint: str   # the folder's listing, hashed: a changed folder reruns the pictures


@dataclass(frozen=True)
class ClassicSettings:
    """Chollet 2016's pixel ascent (``classic.*`` in the config)."""

    step_size: float
    init_mean: float
    init_std: float


@dataclass(frozen=True)
class WeightsSetting:
    """The network: the ``model``, ``weights``, ``cache`` and ``preprocess`` settings, as given
    (``description.of`` describes the model, ``weights.resolve`` finds the file)."""

    name: str          # torchvision-imagenet | keras-imagenet | a .weights.h5 path
    cache: str | None
    preprocess: str    # auto | preprocess.MODES
    # vgg16 | alexnet | a .keras path. Left out of the JSON as vgg16, as before the setting
    # existed, so that an atlas made then is not rerun for it (to_json).
    model: str = field(default="vgg16", metadata={"implied": "vgg16"})

    def network(self) -> Network:
        """The model's description: a built-in's from the package, a file's from the cache."""
        return description.of(self.model, weights_files.cache_dir(self.cache))


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
    device: str
    backend: str       # tensorflow | jax: Keras' backend for the job
    weights: WeightsSetting
    fourier: FourierSettings | None
    classic: ClassicSettings | None
    maco: MacoSettings | None

    @property
    def knobs(self) -> FourierSettings | ClassicSettings | MacoSettings:
        return {"fourier": self.fourier, "classic": self.classic, "maco": self.maco}[self.method]

    @property
    def pad(self) -> int:
        """Pixels the moves pad the image by (classic does not move it)."""
        return 0 if self.method == "classic" else int(self.knobs.pad)

    @property
    def schedule(self) -> str | None:
        return None if self.method == "classic" else self.knobs.schedule


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
class Twins:
    """One layer's search for rotation twins among its rendered filters."""

    outdir: str
    layer: str
    filters: list[int]
    device: str
    backend: str
    weights: WeightsSetting


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
    device: str
    backend: str
    weights: WeightsSetting


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
    device: str
    backend: str
    weights: WeightsSetting


@dataclass(frozen=True)
class Trust:
    """One layer's trust scores (``measure/trust.py``), from its pictures and dataset examples."""

    outdir: str
    layer: str
    filters: list[int]
    similarity: str    # lpips-vgg, or a .keras embedding model
    seed: int
    device: str
    backend: str
    weights: WeightsSetting


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
class Dream:
    name: str
    photo: str
    layer: str
    filters: list[int]
    steps: int
    octaves: int
    octave_scale: float
    step_size: float
    size: int


@dataclass(frozen=True)
class DreamJob:
    outdir: str
    seed: int
    device: str
    backend: str
    weights: WeightsSetting
    dream: Dream


@dataclass(frozen=True)
class ClassTarget:
    name: str
    target: int   # ``class`` in the config: an ImageNet class index
    steps: int


@dataclass(frozen=True)
class Classes:
    outdir: str
    ascent: Ascent
    classes: list[ClassTarget]


# --- from the checked config --------------------------------------------------------------

def _pick(cls, data: dict):
    return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def weights(cfg: dict) -> WeightsSetting:
    return WeightsSetting(cfg["weights"], cfg["cache"], cfg["preprocess"], cfg["model"])


def ascent(cfg: dict, layer: str | None, method: str | None = None) -> Ascent:
    """The main render of ``layer`` (None: the class logits), or with ``method="classic"`` the
    comparison render beside it (Chollet's method at its own steps, one image per filter)."""
    method = method or cfg["method"]
    compare = method != cfg["method"]
    steps, fourier = recipes.for_layer(cfg, layer)
    return Ascent(
        method=method, steps=recipes.default_steps(method) if compare else steps, size=cfg["size"],
        seed=cfg["seed"], diversity=1 if compare else cfg["diversity"],
        diversity_weight=cfg["diversity_weight"], negative=cfg["negative"] and not compare and layer is not None,
        batch_size=cfg["batch_size"],
        precision=cfg["precision"], jit=cfg["jit"], device=cfg["device"], backend=cfg["backend"],
        weights=weights(cfg),
        fourier=_pick(FourierSettings, {**fourier, "scale": tuple(fourier["scale"])}) if method == "fourier" else None,
        classic=_pick(ClassicSettings, cfg["classic"]) if method == "classic" else None,
        maco=maco(cfg, fourier) if method == "maco" else None)


def maco(cfg: dict, fourier: dict) -> MacoSettings:
    source = cfg["examples"] if cfg["maco"]["spectrum"] == "examples" else folder.SKIMAGE
    return _pick(MacoSettings, {**fourier, "scale": tuple(fourier["scale"]), "spectrum": source,
                                "fingerprint": folder.fingerprint(source)})


def ascent_job(cfg: dict, layer: str, filters: list[int]) -> AscentJob:
    """The ascent job of ``filters`` of ``layer`` (a chunk, see :func:`chunks`)."""
    return AscentJob(cfg["outdir"], layer, filters, ascent(cfg, layer),
                     ascent(cfg, layer, "classic") if cfg["compare_classic"] else None)


def grid(cfg: dict, layer: str) -> Grid:
    return Grid(cfg["outdir"], layer, cfg["filters"][layer], cfg["grid"]["tile"], cfg["grid"]["columns"])


def dreams(cfg: dict) -> list[Dream]:
    return [_pick(Dream, d) for d in cfg["dreams"]]


def pages(cfg: dict, layer: str) -> Pages:
    used = [d for d in dreams(cfg) if d.layer == layer]
    return Pages(cfg["outdir"], cfg["title"], layer, cfg["filters"][layer], cfg["compare_classic"],
                 neighbours(cfg, layer), cfg["examples"] != "none", cfg["caricatures"], trusting(cfg), used,
                 layout.extra_pages(bool(cfg["dreams"]), bool(cfg["classes"])),
                 cfg["base_url"], weights(cfg))


def trusting(cfg: dict) -> bool:
    """Trust scores need dataset examples: their queries and natural references."""
    return cfg["trust"] and cfg["examples"] != "none"


def neighbours(cfg: dict, layer: str) -> dict[str, list[int]]:
    """The selected filters of the conv layers just before and after ``layer``: the filters
    whose pages a circuit can link to."""
    net = cfg["network"]
    lyr = net.layer(layer)
    near = [lyr.reads] + [after.name for after in net.after(layer)]
    return {name: cfg["filters"][name] for name in near if name in cfg["filters"]}


def twins(cfg: dict, layer: str) -> Twins:
    return Twins(cfg["outdir"], layer, cfg["filters"][layer], cfg["device"], cfg["backend"], weights(cfg))


def examples(cfg: dict, layers: list[str]) -> Examples:
    """The scan that finds the dataset examples of ``layers``, in one pass."""
    return Examples(cfg["outdir"], cfg["examples"], folder.fingerprint(cfg["examples"]), cfg["examples_side"],
                    cfg["examples_top"], cfg["examples_negative"], {name: cfg["filters"][name] for name in layers},
                    cfg["device"], cfg["backend"], weights(cfg))


def examples_layer(e: Examples, layer: str) -> dict:
    """What decides one layer's dataset examples: a scan's settings, narrowed to that layer.
    Its manifest keeps them, and :func:`examples_todo` compares them."""
    return _plain(dataclasses.replace(e, filters={layer: e.filters[layer]}))


def examples_todo(cfg: dict) -> list[str]:
    """The selected layers whose dataset examples are missing or were found with other settings
    (new images, another side or top, other filters), in network order. One scan finds them
    all; a layer added later is scanned alone, and the others' examples, with everything that
    reads them (trust, caricatures, pages), stay as they are."""
    if cfg["examples"] == "none":
        return []
    scan = examples(cfg, list(cfg["filters"]))
    return [name for name in cfg["filters"]
            if _read_json(layout.examples_manifest(cfg["outdir"], name)).get("settings") != examples_layer(scan, name)]


def _read_json(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def caricatures(cfg: dict, layer: str) -> Caricatures:
    return Caricatures(cfg["outdir"], layer, cfg["filters"][layer], cfg["caricatures_steps"], cfg["caricatures_tie"],
                       cfg["size"], cfg["seed"], cfg["device"], cfg["backend"], weights(cfg))


def trust(cfg: dict, layer: str) -> Trust:
    return Trust(cfg["outdir"], layer, cfg["filters"][layer], cfg["trust_similarity"], cfg["seed"],
                 cfg["device"], cfg["backend"], weights(cfg))


def site(cfg: dict) -> Site:
    return Site(cfg["outdir"], cfg["title"], cfg["filters"],
                [d["name"] for d in cfg["dreams"]], [c["name"] for c in cfg["classes"]], weights(cfg))


def dream(cfg: dict, name: str) -> DreamJob:
    spec = next(d for d in dreams(cfg) if d.name == name)
    return DreamJob(cfg["outdir"], cfg["seed"], cfg["device"], cfg["backend"], weights(cfg), spec)


def classes(cfg: dict) -> Classes:
    targets = [ClassTarget(c["name"], c["class"], c["steps"]) for c in cfg["classes"]]
    return Classes(cfg["outdir"], ascent(cfg, None), targets)


def chunks(cfg: dict) -> dict[tuple[str, int], list[int]]:
    """(layer, first filter) -> the filters of that ascent job, in network order."""
    out = {}
    for layer, filters in cfg["filters"].items():
        size = recipes.chunk_size(cfg["chunk_size"], cfg["network"].layer(layer))
        for i in range(0, len(filters), size):
            out[(layer, filters[i])] = filters[i:i + size]
    return out


# --- to and from the JSON a rule hands its job ----------------------------------------------

def to_json(settings) -> str:
    return json.dumps(_plain(settings), sort_keys=True, separators=(",", ":"))


def _plain(value):
    """``dataclasses.asdict``, but a field marked ``implied`` is left out at that value."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if "implied" not in f.metadata or getattr(value, f.name) != f.metadata["implied"]}
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
        return kind(**{f.name: _build(hints[f.name], data[f.name]) for f in dataclasses.fields(kind)
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
