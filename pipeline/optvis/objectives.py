"""What is maximised. An objective maps ``(forward, targets)`` to one value per batch item.

``forward`` is what one pass of the network exposes (:class:`Forward`); ``targets[b]`` is the
filter (or class) item b renders. Objectives add and scale like numbers, as Lucid's do::

    channel() + 10.0 * diversity()

so a term such as diversity is something a job adds, and the render loop never hears of it.
A dream is an objective too (:func:`dream`, Lucid's ``deepdream``). The pull of a caricature
back towards its photo is not: it is the update rule's (``optimise.NormalisedStep``), so that
the gradient's normalisation never scales it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from keras import ops


class Objective:
    """A per-item objective with a readable description; ``+``, ``-`` and ``*`` compose.

    ``whole_layer``: it reads the target layer's whole output (:attr:`Forward.features`), so the
    render loop may not stop just before the layer and read filter means through a head."""

    def __init__(self, fn: Callable, description: str, whole_layer: bool = False):
        self.fn, self.description, self.whole_layer = fn, description, whole_layer

    def __call__(self, forward: Forward, targets):
        return self.fn(forward, targets)

    def __add__(self, other: Objective) -> Objective:
        return Objective(lambda f, t: self(f, t) + other(f, t), f"{self.description} + {other.description}",
                         self.whole_layer or other.whole_layer)

    def __mul__(self, k: float) -> Objective:
        return Objective(lambda f, t: k * self(f, t), f"{k} * {self.description}", self.whole_layer)

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1.0 * self

    def __sub__(self, other: Objective) -> Objective:
        return self + (-other)

    def __repr__(self) -> str:
        return f"Objective({self.description})"


@dataclass
class Forward:
    """What an objective may read from one pass.

    ``features`` is the model's output. When the model stops just before its target conv
    (``head`` set, see :class:`ConvMeanHead`), a filter's mean is read through the head
    instead of computing the conv: the same value, far less work.
    """

    features: object
    head: ConvMeanHead | None = None
    weight_map: object = None

    def channel_means(self, targets):
        if self.head is not None:
            return self.head(self.features, targets, self.weight_map)
        return filter_means(self.features, targets)


def channel() -> Objective:
    """Each item's own filter: its mean activation over space, before the ReLU."""
    return Objective(lambda f, t: f.channel_means(t), "channel mean")


def dream(filters: list[int]) -> Objective:
    """DeepDream's (Lucid's ``deepdream``, here over chosen filters): the mean over ``filters``
    of their mean activation, the same for every item whatever its target."""
    chosen = np.asarray(filters, np.int32)

    def mean_of_chosen(f, t):
        return ops.mean(ops.take(ops.mean(f.features, axis=(1, 2)), chosen, axis=1), axis=1)
    return Objective(mean_of_chosen, f"dream of {len(filters)} filters", whole_layer=True)


def class_logit() -> Objective:
    """Each item's own class: its log-probability.

    Chollet maximises the softmax output itself; its gradient vanishes as soon as one class
    dominates. The log-probability climbs the same way without stalling.
    """
    return Objective(lambda f, t: class_log_prob(f.features, t), "class log-probability")


def diversity() -> Objective:
    """Lucid's diversity term (weight it with ``*``): each item is pushed away from the other
    items that render the same target.

    Items are compared by the cosine similarity of their Gram matrices (which features
    co-occur, wherever they are), so the images differ in kind, not just by a shift.
    """
    return Objective(lambda f, t: gram_dissimilarity(f.features, t), "diversity")


def filter_means(activations, filter_index):
    """Per-item mean over space of channel ``filter_index[b]`` of ``activations[b]``.

    activations: (batch, height, width, channels); filter_index: (batch,) int32.
    Summing the result over the batch gives each item exactly its own gradient, because
    batch items never interact in a convnet: one backward pass serves many filters.
    """
    means = ops.mean(ops.cast(activations, "float32"), axis=(1, 2))  # bfloat16 models too
    return ops.take_along_axis(means, ops.expand_dims(filter_index, 1), axis=1)[:, 0]


def peaks(outputs, index):
    """Per-item maximum of target ``index[b]``'s rectified output (over space, for conv maps).

    For a filter, 0 means it never fired on the image.
    """
    rectified = ops.relu(ops.cast(outputs, "float32"))
    if len(outputs.shape) == 4:
        rectified = ops.max(rectified, axis=(1, 2))
    return ops.take_along_axis(rectified, ops.expand_dims(index, 1), axis=1)[:, 0]


def class_log_prob(logits, class_index):
    """Per-item log-probability of class ``class_index[b]``."""
    logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    return ops.take_along_axis(logp, ops.expand_dims(class_index, 1), axis=1)[:, 0]


def gram_dissimilarity(activations, group):
    """Minus each item's mean Gram cosine similarity to the other items of its group (<= 0)."""
    x = ops.cast(activations, "float32")
    b, h, w, c = ops.shape(x)
    flat = ops.reshape(x, (b, h * w, c))
    gram = ops.reshape(ops.einsum("bnc,bnd->bcd", flat, flat), (b, c * c))
    gram = gram / (ops.norm(gram, axis=1, keepdims=True) + 1e-8)
    similarity = ops.matmul(gram, ops.transpose(gram))
    same = ops.cast(ops.expand_dims(group, 0) == ops.expand_dims(group, 1), "float32")
    others = same - ops.eye(b)
    return -ops.sum(similarity * others, axis=1) / ops.maximum(ops.sum(others, axis=1), 1.0)


class ConvMeanHead:
    """``filter_means`` of ``conv``'s pre-ReLU output, computed from ``conv``'s *input*.

    The spatial mean of a linear convolution is linear in its input. With 'same' zero padding
    it is the input dotted with a fixed weight map — each input position weighted by the
    kernel taps whose windows reach it, over the number of outputs — plus the bias. The map
    depends only on the filter and the map's size, so :meth:`weight_map` is built outside
    the step loop (once per compiled segment of steps); a step then costs one multiply-add
    over the input instead of a full convolution (95% of the work at block1_conv2, 3% at
    block5_conv3), forward and backward, exactly.
    """

    def __init__(self, conv):
        kernel, bias = (w.numpy() if hasattr(w, "numpy") else w for w in conv.get_weights())
        kh, kw = kernel.shape[:2]
        if conv.padding != "same" or kh % 2 == 0 or kw % 2 == 0 or tuple(conv.strides) != (1, 1):
            raise ValueError(f"{conv.name}: only stride-1 'same' convolutions with odd kernels collapse")
        self.kernel = ops.convert_to_tensor(kernel)
        self.bias = ops.convert_to_tensor(bias)

    @staticmethod
    def plain(layer) -> bool:
        """A Conv2D with a bias whose kernel links every input channel to every filter (not grouped)."""
        return type(layer).__name__ == "Conv2D" and layer.groups == 1 and layer.use_bias

    @staticmethod
    def collapses(layer) -> bool:
        """Whether ``layer`` is a convolution this head can stand in for: a plain one (a
        depthwise, separable or grouped conv's kernel does not link every channel to every filter)."""
        return (ConvMeanHead.plain(layer) and set(layer.dilation_rate) == {1}
                and layer.padding == "same"
                and all(k % 2 for k in layer.kernel_size) and tuple(layer.strides) == (1, 1))

    @staticmethod
    def _reach(n: int, k: int):
        """(k, n): whether kernel row (or column) i reaches input position p from some output."""
        pos = ops.arange(n)[None, :]
        shift = ops.arange(k)[:, None] - k // 2
        return ops.cast((pos >= shift) & (pos < n + shift), "float32")

    def weight_map(self, filter_index, height: int, width: int):
        """(batch, height, width, in_channels): item b's objective is its input dotted with this."""
        kh, kw = self.kernel.shape[:2]
        chosen = ops.take(self.kernel, filter_index, axis=3)  # (kh, kw, cin, batch)
        spread = ops.einsum("ih,ijcb,jw->bhwc", self._reach(height, kh), chosen, self._reach(width, kw))
        return spread / float(height * width)

    def __call__(self, inputs, filter_index, weight_map):
        x = ops.cast(inputs, "float32")
        return ops.sum(x * weight_map, axis=(1, 2, 3)) + ops.take(self.bias, filter_index)
