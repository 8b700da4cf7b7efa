"""The network: VGG16's 13 conv layers, the model cut at one of them, and its preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
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


def preprocess(images, mode: str):
    """RGB pixels in [0, 255] to what the weights were trained on (a Keras op, differentiable)."""
    from keras import ops

    if mode == "torch":  # torchvision weights: RGB in [0,1], ImageNet mean/std
        return (images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    if mode == "caffe":  # Keras' own VGG16 weights: BGR, mean subtracted, no scaling
        return ops.flip(images, axis=-1) - CAFFE_MEAN_BGR
    raise ValueError(f"preprocess mode {mode!r}: allowed {PREPROCESS_MODES}")


CLASSIFIER_SIZE = 224  # the fully connected layers fix the input size


def has_classifier(weights_file: str | Path) -> bool:
    """Whether a Keras ``.weights.h5`` holds the full VGG16 (with its three dense layers)."""
    import h5py

    with h5py.File(weights_file, "r") as fh:
        return "layers" in fh and "dense_2" in fh["layers"]


def conv_base(weights_file: str | Path | None = None):
    """``keras.applications.VGG16`` without the classifier, any input size, weights loaded.

    A file of the full network (classifier included) works too: its conv weights are used.
    """
    import keras

    model = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights_file is not None and has_classifier(weights_file):
        full = full_model(weights_file)
        for lyr in LAYERS:
            model.get_layer(lyr.name).set_weights(full.get_layer(lyr.name).get_weights())
    elif weights_file is not None:
        model.load_weights(str(weights_file))
    return model


def full_model(weights_file: str | Path | None = None):
    """The whole VGG16, classifier included (224 px input), weights loaded."""
    import keras

    model = keras.applications.VGG16(include_top=True, weights=None)
    if weights_file is not None:
        model.load_weights(str(weights_file))
    return model


def logits_model(full):
    """The full network up to the class logits, before the softmax (see ``class_log_prob``)."""
    import keras

    top = full.get_layer("predictions")
    linear = keras.layers.Dense(top.units, activation=None, name="logits")
    out = linear(top.input)
    linear.set_weights(top.get_weights())
    return keras.Model(full.input, out, name="vgg16_logits")


def cut_model(base, layer_name: str, dtype: str = "float32"):
    """The network from input to ``layer_name``'s conv output *before* its ReLU.

    The seeds maximise the post-ReLU output; many deep filters are exactly zero on a grey
    start, so their gradient is zero and the image never moves. The pre-activation always has
    a gradient, and maximising it maximises the post-ReLU output once it is positive.

    Layers are rebuilt from their configs under ``dtype`` ("float32", or "mixed_bfloat16" to
    compute in bfloat16 with float32 weights) and given ``base``'s weights; nothing past the
    target layer is built, so no work is spent beyond it.
    """
    import keras

    inputs = keras.Input(shape=(None, None, 3))
    x = inputs
    for lyr in base.layers[1:]:
        config = {**lyr.get_config(), "dtype": dtype}
        if lyr.name == layer_name:
            config.update(activation="linear", name=f"{layer_name}_preact")
        clone = lyr.__class__.from_config(config)
        x = clone(x)
        clone.set_weights(lyr.get_weights())
        if lyr.name == layer_name:
            break
    else:
        raise ValueError(f"{layer_name!r} is not a layer of the model")
    return keras.Model(inputs, x, name=f"vgg16_to_{layer_name}")


@lru_cache(maxsize=4)
def loaded_base(weights_file: str):
    """One conv base per weights file per process: building and loading costs seconds."""
    return conv_base(weights_file)
