"""What is maximised: one filter's mean activation, a different filter for each batch item."""

from __future__ import annotations

from keras import ops


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
    """Per-item log-probability of class ``class_index[b]``.

    The seeds maximise the softmax output itself; its gradient vanishes as soon as one class
    dominates. The log-probability climbs the same way without stalling.
    """
    logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    return ops.take_along_axis(logp, ops.expand_dims(class_index, 1), axis=1)[:, 0]


def diversity(activations, group, weight: float):
    """Lucid's diversity term: each item is pushed away from the other items of its group.

    ``group[b]`` says which filter item b renders; items of one filter are compared by the
    cosine similarity of their Gram matrices (which features co-occur, wherever they are), so
    the images differ in kind, not just by a shift. Returns the per-item penalty (<= 0).
    """
    x = ops.cast(activations, "float32")
    b, h, w, c = ops.shape(x)
    flat = ops.reshape(x, (b, h * w, c))
    gram = ops.reshape(ops.einsum("bnc,bnd->bcd", flat, flat), (b, c * c))
    gram = gram / (ops.norm(gram, axis=1, keepdims=True) + 1e-8)
    similarity = ops.matmul(gram, ops.transpose(gram))
    same = ops.cast(ops.expand_dims(group, 0) == ops.expand_dims(group, 1), "float32")
    others = same - ops.eye(b)
    return -weight * ops.sum(similarity * others, axis=1) / ops.maximum(ops.sum(others, axis=1), 1.0)


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
