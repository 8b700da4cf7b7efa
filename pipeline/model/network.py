"""The network as Keras models: every cut and head the atlas uses, for any network, in one place.

``conv_base`` builds the network a :class:`~.description.Network` names (a built-in as its
entry builds it, ``builtins.py``, or a user's ``.keras`` file) with its weights. Every other model here is cut from it through the Keras
graph, so a residual branch or a concatenation is followed as Keras runs it: cut before a
layer's activation (what the ascent maximises), cut at a layer's input (what the collapsed
objective and the scorecard read), every conv's output at once (the dataset examples), or the
full VGG16 up to its logits (the class images).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import keras

from . import graph
from .builtins import BUILT_IN
from .description import Network
from .vgg16 import has_classifier


def conv_base(net: Network, weights_file: str | Path | None = None) -> keras.Model:
    """The network ``net`` describes, any input size where it allows one, weights loaded: a
    built-in's as its entry builds it (``builtins``), a user's ``.keras`` file as it is. A full
    weights file (a classifier included) works too: its conv weights are used.
    """
    entry = BUILT_IN.get(net.model)
    if entry is None:  # a user's .keras file: architecture and weights in one
        return keras.saving.load_model(net.model, compile=False)
    model = entry.build()
    if weights_file is not None and entry.classifier and has_classifier(weights_file):
        full = full_model(weights_file)
        for lyr in net.layers:
            model.get_layer(lyr.name).set_weights(full.get_layer(lyr.name).get_weights())
        return model
    if weights_file is not None:
        model.load_weights(str(weights_file))
    return model

def loaded_base(net: Network, weights_file: str) -> keras.Model:
    """One conv base per network and weights file per process: building and loading costs seconds."""
    return conv_base(net, weights_file)


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


def preactivations(base: keras.Model, convs: list[str], dtype: str | None = None) -> tuple:
    """``base`` rebuilt through its graph (``graph.rebuild``: nested models opened, any input
    size the convs allow), each of ``convs`` computing without its activation (applied after
    it, so the layers above see what they always saw): (the input, {conv: its pre-activation
    output}).

    The seeds maximise the post-ReLU output; many deep filters are exactly zero on a grey
    start, so their gradient is zero and the image never moves. The pre-activation always has
    a gradient, and maximising it maximises the post-ReLU output once it is positive. With
    ``dtype`` ("mixed_bfloat16": compute in bfloat16, weights float32) every layer is rebuilt
    under it.
    """
    rebuilt = graph.rebuild(base, list(convs), dtype)
    return rebuilt.inputs, rebuilt.found


def cut_model(base: keras.Model, layer_name: str, dtype: str = "float32") -> keras.Model:
    """The network from input to ``layer_name``'s conv output *before* its activation; nothing
    the layer does not depend on is computed."""
    inputs, found = preactivations(base, [layer_name], dtype)
    return keras.Model(inputs, found[layer_name], name=f"to_{layer_name}")


def below_last(model: keras.Model) -> keras.Model:
    """``model`` without its last layer: what that layer reads (the image itself at the first conv).

    The collapsed objective and the scorecard compute the last conv themselves, for only the
    filters they need.
    """
    return keras.Model(model.input, model.layers[-1].input)


def all_convs_model(base: keras.Model, convs: list[str]) -> keras.Model:
    """One model whose outputs are ``convs``' outputs before their activations, in that order:
    nothing deeper than a scan needs is computed."""
    inputs, found = preactivations(base, convs)
    return keras.Model(inputs, [found[name] for name in convs])
