"""Work out a :class:`~.description.Network` from a Keras graph: the one place that reads it.

Each operation's output gets a stride, a receptive field and an offset (where its first unit's
field is centred) from its inputs' (a conv or a pool of kernel k and stride s adds
``(k - 1) x stride`` pixels, multiplies the stride by s and moves the offset by its padding; a
merge takes the widest of its branches), the set of convs it depends on, and the conv whose
channels it still carries one for one (through a ReLU, a pool, padding or dropout): what the
circuits can follow. A Flatten, a global pool or a Dense ends the spatial part.

Run as ``python -m pipeline.model.describe MODEL.keras OUT.json``: the parse-time check starts
it in a process of its own, so that the Snakefile never imports TensorFlow.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..errors import AtlasError
from . import graph
from .builtins import BUILT_IN
from .description import ConvLayer, Network, to_json

CONV = graph.CONVS
POOL = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
# Layers that keep each channel apart: a filter's output reaches the next conv unmixed through them.
FOLLOW = POOL + (keras.layers.ReLU, keras.layers.Activation, keras.layers.ZeroPadding2D,
                 keras.layers.Dropout, keras.layers.SpatialDropout2D, keras.layers.InputLayer)
FLAT = (keras.layers.Flatten, keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
MAX_SIDE = 1024  # the schema's largest image side


@dataclass(frozen=True)
class Reach:
    """What an operation's output is, seen from the input."""

    rf: int
    stride: int
    offset: float            # the input pixel (from 0) its first unit's field is centred on
    convs: frozenset[int]   # indices of the convs it depends on
    carries: str | None      # the conv whose channels it carries unmixed ("" the image), or None
    spatial: bool = True


def parents(op) -> list:
    """The operations whose outputs ``op`` reads."""
    if isinstance(op, keras.layers.InputLayer):
        return []
    return [t._keras_history.operation for t in keras.tree.flatten(op.input)]


def operations(model: keras.Model) -> list:
    """Every operation, inputs first, in the order Keras runs them."""
    ops = list(getattr(model, "operations", None) or model.layers)
    inputs = [t._keras_history.operation for t in keras.tree.flatten(model.inputs)]
    return inputs + [op for op in ops if op not in inputs]


def describe(model: keras.Model, name: str, setting: str, preprocess: str | None) -> Network:
    """The description of ``model``'s convolutions, nested models opened (``graph``), or one
    line saying why there is none."""
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else ()
    if len(shape) != 4 or not shape[-1]:
        raise AtlasError(f"config: model = {setting!r} takes input {shape or 'of several tensors'}; "
                         "expected one input of shape (height, width, bands)")
    if shape[1] != shape[2]:
        raise AtlasError(f"config: model = {setting!r} takes {shape[1]}x{shape[2]} images; the atlas renders "
                         "square ones: expected a model with a square or free input size")
    flat = flat_model(model, setting)
    reach: dict[str, Reach] = {}
    layers: list[ConvLayer] = []
    scales = False  # EfficientNet's and ConvNeXt's own input scaling: what `preprocess` should know
    for op in operations(flat):
        ins = [reach[p.name] for p in parents(op) if p.name in reach]
        reach[op.name] = _step(op, ins, layers)
        scales |= not layers and isinstance(op, (keras.layers.Rescaling, keras.layers.Normalization))
    if not layers:
        raise AtlasError(f"config: model = {setting!r} has no convolution the atlas can draw (Conv2D, "
                         "DepthwiseConv2D or SeparableConv2D on an image-shaped input)")
    fixed = shape[1]
    net = Network(name, setting, preprocess, fixed, fixed or min_size(flat), tuple(layers), scales, shape[-1])
    rehearse(model, net)
    return net


def rehearse(model: keras.Model, net: Network) -> None:
    """Cut every conv out as the jobs will, in float32 and in bfloat16, and run it on a small
    image and on one of another size (the dataset examples and trust feed other sizes than the
    pictures'): what the check accepts does not fail later in a job."""
    side, names = net.input_size or max(net.min_size, 32), [lyr.name for lyr in net.layers]
    for dtype, sizes in ((None, (side, side + 13)), ("mixed_bfloat16", (side,))):
        size = side
        try:
            rebuilt = graph.rebuild(model, names, dtype)
            cut = keras.Model(rebuilt.inputs, list(rebuilt.found.values()))
            for size in sizes:  # one cut, run at each size
                cut(np.zeros((1, size, size, net.channels), np.float32))
        except Exception as exc:  # noqa: BLE001 - any failure here would be a job's: said in one line
            reason = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"
            if size != side:
                raise AtlasError(_fixed_convs(net.model, side, reason)) from None
            raise AtlasError(f"config: model = {net.model!r} cannot be cut at its convs{' in bfloat16' if dtype else ''} "
                             f"({reason}); expected layers Keras can rebuild from their configs") from None


def _fixed_convs(setting: str, side: int, why: str = "a layer before a conv fixes it") -> str:
    return (f"config: model = {setting!r}: its convolutions can be reached only at its own input size ({side} px; "
            f"{why}); the dataset examples and trust feed other sizes: expected convs that take any size "
            "(a Reshape or Dense that fixes the size after the last conv)")


def flat_model(model: keras.Model, setting: str) -> keras.Model:
    """``model`` with its nested models opened, at any input size: what every
    job cuts from (``graph.rebuild``), or one line saying why it cannot be."""
    try:
        rebuilt = graph.rebuild(model, None, linear=False)
    except (ValueError, TypeError) as exc:
        raise AtlasError(f"config: model = {setting!r}: layer {exc}; expected a model Keras can rebuild "
                         "from its layers' configs") from None
    if not rebuilt.found:
        raise AtlasError(f"config: model = {setting!r} has no convolution the atlas can draw (Conv2D, "
                         "DepthwiseConv2D or SeparableConv2D)")
    if rebuilt.fixed is not None:
        raise AtlasError(_fixed_convs(setting, rebuilt.fixed))
    # The model's own outputs too, where a free size reaches them: a pool after the last conv
    # still needs its pixel (``min_size``).
    return keras.Model(rebuilt.inputs, list(rebuilt.found.values()) + rebuilt.outputs)


def _step(op, ins: list[Reach], layers: list[ConvLayer]) -> Reach:
    if not ins:
        return Reach(1, 1, 0.0, frozenset(), "")
    convs = frozenset().union(*(r.convs for r in ins))
    ins = [r for r in ins if r.spatial]  # a squeeze-and-excitation's scale multiplies a map: the map counts
    if not ins or _flattens(op):
        first = ins[0] if ins else Reach(1, 1, 0.0, frozenset(), None)
        return Reach(first.rf, first.stride, first.offset, convs, None, False)
    first = ins[0]
    if len(ins) > 1:  # a merge: the widest view, channels mixed
        widest = max(ins, key=lambda r: r.rf)
        return Reach(widest.rf, max(r.stride for r in ins), widest.offset, convs, None)
    if isinstance(op, CONV + POOL):
        k, s = _window(op)
        rf, stride = first.rf + (k - 1) * first.stride, first.stride * s
        # The first unit's window starts `before` padded pixels ahead of the input's first.
        before = max(k - s, 0) // 2 if op.padding == "same" else 0
        offset = first.offset + ((k - 1) / 2 - before) * first.stride
        if isinstance(op, CONV):
            index, kind = len(layers), _kind(op)
            # Circuits read a kernel as (k, k, in, out): a depthwise, separable or grouped conv's is not.
            reads = first.carries if kind == "conv" else None
            layers.append(ConvLayer(op.name, index, _block(layers, stride), int(op.output.shape[-1]),
                                    int(op.input.shape[-1]), int(op.kernel_size[0]), rf, stride, offset,
                                    reads, tuple(sorted(first.convs)), kind))
            return Reach(rf, stride, offset, convs | {index}, op.name)
        return Reach(rf, stride, offset, convs, first.carries)
    offset = first.offset
    if isinstance(op, keras.layers.ZeroPadding2D):  # the padded map starts before the input's first pixel
        offset -= op.padding[0][0] * first.stride
    return Reach(first.rf, first.stride, offset, convs, first.carries if isinstance(op, FOLLOW) else None)


def _flattens(op) -> bool:
    """Whether ``op`` ends the spatial part: a Flatten, a global pool, a Dense on a vector (a
    Dense on a map, as ConvNeXt's, works on each pixel apart and keeps the map)."""
    if isinstance(op, keras.layers.Dense):
        return len(op.input.shape) <= 2
    return isinstance(op, FLAT)


def _kind(op) -> str:
    if isinstance(op, keras.layers.DepthwiseConv2D):
        return "depthwise"
    if isinstance(op, keras.layers.SeparableConv2D):
        return "separable"
    return "grouped" if getattr(op, "groups", 1) > 1 else "conv"


def _window(op) -> tuple[int, int]:
    """(effective kernel side, stride) of a conv or pool."""
    if isinstance(op, CONV):
        k = max(op.kernel_size)
        return (k - 1) * max(op.dilation_rate) + 1, max(op.strides)
    return max(op.pool_size), max(op.strides)


def _block(layers: list[ConvLayer], stride: int) -> int:
    if not layers:
        return 1
    return layers[-1].block + (stride > layers[-1].stride)


def min_size(model: keras.Model) -> int:
    """The smallest square input side at which every spatial output has a pixel."""
    ops = operations(model)
    for side in range(1, MAX_SIDE + 1):
        if _fits(ops, side):
            return side
    return MAX_SIDE + 1


def _fits(ops: list, side: int) -> bool:
    sides: dict[str, int | None] = {}  # None: no longer a map (after a global pool)
    for op in ops:
        ins = [sides[p.name] for p in parents(op) if p.name in sides]
        maps = [s for s in ins if s is not None]
        if not ins:
            sides[op.name] = side
            continue
        if not maps or _flattens(op):
            sides[op.name] = None
        elif isinstance(op, CONV + POOL):
            k, s = _window(op)
            sides[op.name] = math.ceil(maps[0] / s) if op.padding == "same" else (maps[0] - k) // s + 1
        elif isinstance(op, keras.layers.ZeroPadding2D):
            sides[op.name] = maps[0] + sum(op.padding[0])
        else:
            sides[op.name] = min(maps)
        if sides[op.name] is not None and sides[op.name] < 1:
            return False
    return True


def display_name(model: keras.Model, path: Path) -> str:
    """The model's own name, or the file's where Keras gave it a default one."""
    generic = ("functional", "sequential", "model")
    return path.stem if model.name.split("_")[0] in generic else model.name


def built_in(model: str) -> Network:
    """A built-in network's description, from Keras (what ``networks/*.json`` holds; a test
    compares them)."""
    from . import network

    placeholder = Network(model, model, None, None, 1, ())
    # Every built-in's default weights are torchvision's: their scaling is the description's.
    return describe(network.conv_base(placeholder), BUILT_IN[model].title, model, "torch")


def main(argv: list[str]) -> int:
    """MODEL.keras OUT.json [SETTING]: SETTING is the model as the config names it, for messages."""
    path, out = Path(argv[0]), Path(argv[1])
    setting = argv[2] if len(argv) > 2 else argv[0]
    try:
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise AtlasError(f"config: model = {setting!r} is not a Keras model Keras can load ({reason})") from None
        net = describe(model, display_name(model, path), setting, None)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(to_json(net))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
