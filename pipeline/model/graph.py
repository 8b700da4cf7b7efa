"""A Keras model's graph run again layer by layer: the one place the atlas rebuilds a network.

Every model the atlas cuts from a network (to a layer before its activation, every conv at
once) is this graph run on a new input, with

- **nested models opened**: a backbone inside a functional head, or a ``Sequential`` stem as
  ConvNeXt's, has its layers called one by one, named ``backbone.conv1`` (Keras forbids ``/``
  in a name), so its convolutions are layers of the atlas and their outputs can be cut;
- **every layer made anew** from its config (a layer used twice stays one layer), its weights
  copied, in the dtype asked for, the convs asked for without their activation;
- **a free input size where the convs allow it**: a classifier head (``Flatten`` then
  ``Dense``) fixes a model's input size, but the convs below it take any size. The graph is
  run at the model's own input shape and, where that is fixed, again at a free size, which is
  kept wherever every conv asked for can be reached at it (where not, the parse-time check
  refuses the model: the dataset examples and trust feed other sizes).

Keras' ``clone_model`` keeps nested models whole and the input's shape as it was, so it could
do neither; the graph is run with Keras' own ``_run_through_graph`` (a private method, the one
Keras' cloning uses), which calls each operation on the tensors its node names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

UNREACHED = object()  # what a layer gives that cannot be reached at this input size
NESTED = "."  # between a nested model's name and its layer's, in the atlas's names
# The layers whose channels the atlas draws: each output channel is a filter.
CONVS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


@dataclass
class Rebuilt:
    """A network's graph run again: its new input and the tensors that were asked for."""

    inputs: object           # the new keras.Input
    found: dict[str, object]  # {atlas name: the conv's output (before its activation, if asked)}
    fixed: int | None         # the input side it had to take, or None: any size
    errors: dict[str, str]    # {atlas name: why that layer could not be called}, for messages
    outputs: list             # the model's own outputs that could be reached at this size


def is_conv(layer) -> bool:
    return isinstance(layer, CONVS)


def find(model: keras.Model, name: str):
    """The layer object an atlas name (``backbone.conv1``) names in ``model``."""
    layer = model
    for part in name.split(NESTED):
        layer = layer.get_layer(part)
    return layer


def rebuild(model: keras.Model, wanted: list[str] | None = None, dtype: str | None = None,
            linear: bool = True) -> Rebuilt:
    """``model`` run again on a new input, every layer made anew (see the module's docstring):
    the outputs of the convs named in ``wanted`` (None: every conv), before their activation
    where ``linear`` (which is then applied after, so the layers above see what they always saw).
    At a free input size where every one of them can be reached at one, else at the model's own."""
    own_shape = tuple(model.inputs[0].shape)
    own = _rebuild_at(model, own_shape, wanted, dtype, linear)
    names = list(own.found) if wanted is None else list(wanted)
    missing = [name for name in names if name not in own.found]
    if missing:
        why = own.errors.get(missing[0])
        raise ValueError(f"{missing[0]!r} " + (f"cannot be rebuilt ({why})" if why else "is not a conv layer of the model"))
    if own_shape[1] is None and own_shape[2] is None:
        return own
    free = _rebuild_at(model, (None, None, None, own_shape[-1]), names, dtype, linear)
    return free if all(name in free.found for name in names) else own


def _rebuild_at(model, shape: tuple, wanted: list[str] | None, dtype: str | None, linear: bool) -> Rebuilt:
    made: dict[int, tuple] = {}    # id(old layer) -> (new layer, its activation if taken off)
    found: dict[str, object] = {}
    errors: dict[str, str] = {}
    asked = None if wanted is None else set(wanted)

    def remake(name: str, layer, take: bool) -> tuple:
        config = layer.get_config()
        config["name"] = name
        if dtype is not None:
            config["dtype"] = dtype
        activation = None
        if take and linear and "activation" in config:
            activation = keras.activations.get(config["activation"])
            config["activation"] = "linear"
        return layer.__class__.from_config(config), activation

    def visit(name, layer, *args, **kwargs):
        if not isinstance(layer, keras.layers.Layer):  # an op (``x + y`` in a graph): no state to copy
            return layer(*args, **kwargs)
        take = is_conv(layer) and (asked is None or name in asked)
        first = id(layer) not in made
        if first:
            made[id(layer)] = remake(name, layer, take)
        new, activation = made[id(layer)]
        try:
            out = new(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            errors[name] = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise
        if first and layer.weights:
            new.set_weights(layer.get_weights())
        if take:
            found[name] = out
            out = activation(out) if activation is not None else out
        return out

    inputs = keras.Input(batch_shape=(None, *shape[1:]))
    outputs = [out for out in _run(model, [inputs], "", visit) if out is not UNREACHED]
    fixed = None if shape[1] is None else int(shape[1])
    return Rebuilt(inputs, found, fixed, errors, outputs)


def _run(model, inputs: list, prefix: str, visit: Callable) -> list:
    """Run ``model``'s graph on ``inputs``: nested models opened, every other layer handed to
    ``visit(atlas name, layer, *args, **kwargs)``. A layer that cannot be called on what reaches
    it (a ``Dense`` after a ``Flatten`` at a free input size) gives ``UNREACHED``, and so does
    every layer after it: what the atlas needs is only what the convs need."""
    graph = getattr(model, "_functional", None) or model  # a Sequential runs as its functional graph

    def call(op, *args, **kwargs):
        if any(x is UNREACHED for x in keras.tree.flatten((args, kwargs))):
            return UNREACHED
        if isinstance(op, keras.Model):
            outs = _run(op, keras.tree.flatten(args), f"{prefix}{op.name}{NESTED}", visit)
            return outs if len(outs) > 1 else outs[0]
        try:
            return visit(prefix + op.name, op, *args, **kwargs)
        except (ValueError, TypeError):  # cannot take this shape: nothing after it is reached
            return UNREACHED
    return keras.tree.flatten(graph._run_through_graph(inputs, operation_fn=lambda op: op, call_fn=call))
