"""What is maximised: one filter's mean activation, a different filter for each batch item."""

from __future__ import annotations

from keras import ops


def filter_means(activations, filter_index):
    """Per-item mean over space of channel ``filter_index[b]`` of ``activations[b]``.

    activations: (batch, height, width, channels); filter_index: (batch,) int32.
    Summing the result over the batch gives each item exactly its own gradient, because
    batch items never interact in a convnet: one backward pass serves many filters.
    """
    means = ops.mean(activations, axis=(1, 2))
    return ops.take_along_axis(means, ops.expand_dims(filter_index, 1), axis=1)[:, 0]


def peaks(outputs, index):
    """Per-item maximum of target ``index[b]``'s rectified output (over space, for conv maps).

    For a filter, 0 means it never fired on the image.
    """
    rectified = ops.relu(outputs)
    if len(outputs.shape) == 4:
        rectified = ops.max(rectified, axis=(1, 2))
    return ops.take_along_axis(rectified, ops.expand_dims(index, 1), axis=1)[:, 0]


def class_log_prob(logits, class_index):
    """Per-item log-probability of class ``class_index[b]``.

    The seeds maximise the softmax output itself; its gradient vanishes as soon as one class
    dominates. The log-probability climbs the same way without stalling.
    """
    logp = ops.log_softmax(logits, axis=-1)
    return ops.take_along_axis(logp, ops.expand_dims(class_index, 1), axis=1)[:, 0]
