"""The network as Keras models: every cut, clone and head of VGG16 the atlas uses, in one place.

``conv_base`` is ``keras.applications.VGG16`` without its classifier; every other model here is
built from it by layer surgery: cut before a layer's ReLU (what the ascent maximises), cut at a
layer's input (what the collapsed objective and the scorecard read), every conv's output at
once (the dataset examples), or the full network up to its logits (the class images).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import keras

from .vgg16 import LAYERS, has_classifier


def conv_base(weights_file: str | Path | None = None) -> keras.Model:
    """``keras.applications.VGG16`` without the classifier, any input size, weights loaded.

    A file of the full network (classifier included) works too: its conv weights are used.
    """
    model = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights_file is not None and has_classifier(weights_file):
        full = full_model(weights_file)
        for lyr in LAYERS:
            model.get_layer(lyr.name).set_weights(full.get_layer(lyr.name).get_weights())
    elif weights_file is not None:
        model.load_weights(str(weights_file))
    return model


@lru_cache(maxsize=4)
def loaded_base(weights_file: str) -> keras.Model:
    """One conv base per weights file per process: building and loading costs seconds."""
    return conv_base(weights_file)


def full_model(weights_file: str | Path | None = None) -> keras.Model:
    """The whole VGG16, classifier included (224 px input), weights loaded."""
    model = keras.applications.VGG16(include_top=True, weights=None)
    if weights_file is not None:
        model.load_weights(str(weights_file))
    return model


def logits_model(full: keras.Model) -> keras.Model:
    """The full network up to the class logits, before the softmax (see ``objectives.class_logit``)."""
    top = full.get_layer("predictions")
    linear = keras.layers.Dense(top.units, activation=None, name="logits")
    out = linear(top.input)
    linear.set_weights(top.get_weights())
    return keras.Model(full.input, out, name="vgg16_logits")


def cut_model(base: keras.Model, layer_name: str, dtype: str = "float32") -> keras.Model:
    """The network from input to ``layer_name``'s conv output *before* its ReLU.

    The seeds maximise the post-ReLU output; many deep filters are exactly zero on a grey
    start, so their gradient is zero and the image never moves. The pre-activation always has
    a gradient, and maximising it maximises the post-ReLU output once it is positive.

    Layers are rebuilt from their configs under ``dtype`` ("float32", or "mixed_bfloat16" to
    compute in bfloat16 with float32 weights) and given ``base``'s weights; nothing past the
    target layer is built, so no work is spent beyond it.
    """
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


def below_last(model: keras.Model) -> keras.Model:
    """``model`` without its last layer: what that layer reads (the image itself at block1_conv1).

    The collapsed objective and the scorecard compute the last conv themselves, for only the
    filters they need.
    """
    return keras.Model(model.input, model.layers[-1].input)


def all_convs_model(base: keras.Model, upto: str | None = None) -> keras.Model:
    """One model whose outputs are the convs' outputs before their ReLU, every one up to and
    including ``upto`` (all 13 by default): nothing deeper than a scan needs is computed."""
    inputs = keras.Input(shape=(None, None, 3))
    x, outs = inputs, []
    for lyr in base.layers[1:]:
        if "conv" in lyr.name:
            config = lyr.get_config()
            config.update(activation="linear", name=f"{lyr.name}_preact")
            conv = keras.layers.Conv2D.from_config(config)
            x = conv(x)
            conv.set_weights(lyr.get_weights())
            outs.append(x)
            if lyr.name == upto:
                break
            x = keras.ops.relu(x)
        else:
            x = lyr(x)
    return keras.Model(inputs, outs)
