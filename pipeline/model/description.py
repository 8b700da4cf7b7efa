"""What a network is, as the atlas needs it: one description, worked out from the Keras graph once.

A :class:`Network` lists the conv layers (channels, kernel, stride, receptive field, what each
reads) and says how inputs are scaled. It is plain data in JSON, so the Snakefile reads it at
parse time without starting TensorFlow. The built-in networks' descriptions ship with the
package (``networks/*.json``, written by ``describe`` and checked against Keras by a test); a
user's ``.keras`` file is described by ``python -m pipeline.model.describe`` in a process of its
own, once per file content, and the JSON is cached beside the converted weights.

Everything that needs a layer's facts is handed the description: nothing here is a global.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import AtlasError
from .builtins import BUILT_IN
from .checksum import sha256

FORMAT = "v3"  # of a description; a new one describes model files again (v2: ConvLayer.offset; v3: kind,
               # nested models opened)
HERE = Path(__file__).parent / "networks"


@dataclass(frozen=True)
class ConvLayer:
    name: str
    index: int            # order in the network, 0 first
    block: int            # 1, 2, ...: a new block starts wherever the stride grows (VGG16's blocks)
    filters: int          # output channels
    in_channels: int
    kernel: int           # the kernel's side
    receptive_field: int  # pixels of input one output unit sees
    stride: int           # input pixels between neighbouring output units
    offset: float         # the input pixel (from 0) that unit 0's field is centred on
    reads: str | None     # the conv whose output it reads through layers circuits can follow
                          # (a ReLU, a pool, padding), "" for the image, None where they cannot
    upstream: tuple[int, ...]  # the indices of the convs its output depends on
    kind: str = "conv"     # "conv"; "depthwise", "separable" or "grouped": each channel (or
                           # group) convolved apart, so no kernel slice links two filters

    @property
    def params(self) -> int:
        return self.macs_per_unit + self.filters

    @property
    def macs_per_unit(self) -> int:
        """Multiply-adds per output position, all filters: a depthwise conv reads one channel
        per filter, a separable one adds a 1x1 conv, a grouped one reads its group's channels
        (taken here as a depthwise's: ConvNeXt's, the grouped convs of the zoo, are)."""
        window = self.kernel * self.kernel
        if self.kind == "separable":
            return window * self.in_channels + self.in_channels * self.filters
        if self.kind in ("depthwise", "grouped"):
            return window * self.filters
        return window * self.in_channels * self.filters

    def centre(self, index: int) -> int:
        """The input pixel unit ``index`` of the map (along a side) is centred on; where the field
        has two middle pixels, the first."""
        return index * self.stride + math.floor(self.offset)

    def flops(self, size: int) -> int:
        """Forward FLOPs (2 x multiply-adds) of this conv alone on a ``size`` x ``size`` input."""
        side = size // self.stride
        return 2 * side * side * self.macs_per_unit


@dataclass(frozen=True)
class Network:
    name: str              # what pages call it: "VGG16", "AlexNet", a file's model name
    model: str             # the ``model`` setting it came from
    preprocess: str | None  # how its weights want their input (preprocess.MODES); None: say it
    input_size: int | None  # fixed by the model (a classifier head), else None: any size
    min_size: int           # the smallest input side that leaves every layer an output
    layers: tuple[ConvLayer, ...]
    scales_input: bool = False  # a Rescaling or Normalization layer before its first conv
    channels: int = 3           # input bands: 3 (RGB) for the built-ins, 1 for a digit classifier, ...

    @cached_property  # derived once: every layer lookup goes through it
    def by_name(self) -> dict[str, ConvLayer]:
        return {lyr.name: lyr for lyr in self.layers}

    @property
    def total_filters(self) -> int:
        return sum(lyr.filters for lyr in self.layers)

    def layer(self, name: str) -> ConvLayer:
        found = self.by_name.get(name)
        if found is None:
            raise AtlasError(unknown_layer(self, name, "layer"))
        return found

    def depth(self, name: str) -> float:
        """0 for the first conv, 1 for the last: where ``auto`` recipes change."""
        return self.layer(name).index / max(1, len(self.layers) - 1)

    def flops_to(self, name: str, size: int) -> int:
        """Forward FLOPs from the input up to and including conv ``name`` (the convs it depends on)."""
        target = self.layer(name)
        return sum(self.layers[i].flops(size) for i in target.upstream) + target.flops(size)

    def after(self, name: str) -> list[ConvLayer]:
        """The convs that read ``name``'s output through layers circuits can follow."""
        return [lyr for lyr in self.layers if lyr.reads == name]


def unknown_layer(net: Network, name: str, setting: str) -> str:
    """The one line for a layer name the network lacks, with the nearest names."""
    names = [lyr.name for lyr in net.layers]
    near = difflib.get_close_matches(str(name), names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return (f"config: {setting} = {name!r} is not a conv layer of {net.name}; {hint}"
            f"expected one of {names[0]} ... {names[-1]} ({len(names)} layers)")


# --- to and from JSON ------------------------------------------------------------------------

def to_json(net: Network) -> str:
    return json.dumps(dataclasses.asdict(net), indent=1) + "\n"


def from_json(text: str) -> Network:
    data = json.loads(text)
    data.setdefault("scales_input", False)
    data.setdefault("channels", 3)
    layers = tuple(ConvLayer(**{**lyr, "upstream": tuple(lyr["upstream"])}) for lyr in data.pop("layers"))
    return Network(**data, layers=layers)


# --- which network a ``model`` setting names ---------------------------------------------------

def is_file(model: str) -> bool:
    return model not in BUILT_IN


def of(model: str, cache: Path) -> Network:
    """The description of ``model``: a built-in's from the package, a ``.keras`` file's from the
    cache, described first (in a process of its own: TensorFlow stays out of this one) if new."""
    if not is_file(model):
        return from_json((HERE / f"{model}.json").read_text())
    path = Path(model).expanduser()
    if path.suffix != ".keras":
        raise AtlasError(f"config: model = {model!r} is not allowed; expected {_built_in_words()} "
                         "or the path of a .keras file")
    if not path.is_file():
        raise AtlasError(f"config: model = {model!r}: file does not exist; expected {_built_in_words()} "
                         "or the path of a .keras file")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a file that is there
        raise AtlasError(f"config: model = {model!r} is not a Keras model Keras can load: the file is there but is "
                         "not a .keras archive (a zip, as model.save('mine.keras') writes it); expected such a file")
    cached = cache / "networks" / f"{path.stem}-{sha256(path)[:16]}-{FORMAT}.json"
    if not cached.exists():
        _describe_in_child(path, model, cached)
    return dataclasses.replace(from_json(cached.read_text()), model=model)


def _built_in_words() -> str:
    names = [f"{name!r}" for name in BUILT_IN]
    return ", ".join([names[0] + " (default)", *names[1:]])


def _describe_in_child(path: Path, setting: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    # The child runs in this repository (to find the package): the model's path is made absolute.
    proc = subprocess.run([sys.executable, "-m", "pipeline.model.describe", str(path.resolve()), str(out), setting],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    if proc.returncode != 0 or not out.exists():
        lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error:")]
        last = lines[-1][len("error: "):] if lines else (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AtlasError(last)
