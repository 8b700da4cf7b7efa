"""The network as facts: VGG16's 13 conv layers, their sizes and FLOPs, and its preprocessing.

Nothing here builds a Keras model (that is ``network``), so the Snakefile can read these facts
at parse time without starting TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# (name, output channels); a 2x2/2 max-pool follows the last conv of each block.
_CONVS = (
    ("block1_conv1", 64), ("block1_conv2", 64),
    ("block2_conv1", 128), ("block2_conv2", 128),
    ("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256),
    ("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512),
    ("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512),
)
MIN_SIZE = 32  # five 2x2 pools: smaller inputs leave block5 with no spatial extent
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
IMAGENET_MEAN_RGB = IMAGENET_MEAN * 255.0  # the "nothing here" colour, in pixels
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
PREPROCESS_MODES = ("torch", "caffe")


@dataclass(frozen=True)
class ConvLayer:
    name: str
    index: int            # 0..12, order in the network
    block: int            # 1..5
    filters: int          # output channels
    in_channels: int
    receptive_field: int  # pixels of input one output unit sees
    stride: int           # input pixels between neighbouring output units

    @property
    def params(self) -> int:
        return 3 * 3 * self.in_channels * self.filters + self.filters

    @property
    def short(self) -> str:
        """``block4_conv2`` -> ``4_2``, the form people type."""
        return f"{self.block}_{self.name[-1]}"

    def flops(self, size: int) -> int:
        """Forward FLOPs (2 x multiply-adds) of this conv alone on a ``size`` x ``size`` input."""
        side = size // self.stride
        return 2 * side * side * 9 * self.in_channels * self.filters


def _build_layers() -> tuple[ConvLayer, ...]:
    layers, rf, stride, in_ch = [], 1, 1, 3
    for i, (name, filters) in enumerate(_CONVS):
        block = int(name[5])
        if i and block != layers[-1].block:  # the pool between blocks
            rf += stride
            stride *= 2
        rf += 2 * stride
        layers.append(ConvLayer(name, i, block, filters, in_ch, rf, stride))
        in_ch = filters
    return tuple(layers)


LAYERS: tuple[ConvLayer, ...] = _build_layers()
BY_NAME: dict[str, ConvLayer] = {layer.name: layer for layer in LAYERS}
TOTAL_FILTERS = sum(layer.filters for layer in LAYERS)


def layer(name: str) -> ConvLayer:
    return BY_NAME[name]


def flops_to(name: str, size: int) -> int:
    """Forward FLOPs of the network from the input up to and including conv ``name``."""
    target = BY_NAME[name]
    return sum(l.flops(size) for l in LAYERS[: target.index + 1])


def has_classifier(weights_file: str | Path) -> bool:
    """Whether a Keras ``.weights.h5`` holds the full VGG16 (with its three dense layers): read
    with h5py alone (deferred, as Keras below), so the config check at parse time starts no
    TensorFlow."""
    import h5py

    with h5py.File(weights_file, "r") as fh:
        return "layers" in fh and "dense_2" in fh["layers"]


def preprocess(images, mode: str):
    """RGB pixels in [0, 255] to what the weights were trained on (a Keras op, differentiable)."""
    from keras import ops  # deferred: Keras starts TensorFlow, and this module is read at parse time

    if mode == "torch":  # torchvision weights: RGB in [0,1], ImageNet mean/std
        return (images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    if mode == "caffe":  # Keras' own VGG16 weights: BGR, mean subtracted, no scaling
        return ops.flip(images, axis=-1) - CAFFE_MEAN_BGR
    raise ValueError(f"preprocess mode {mode!r}: allowed {PREPROCESS_MODES}")


CLASSIFIER_SIZE = 224  # the fully connected layers fix the input size
