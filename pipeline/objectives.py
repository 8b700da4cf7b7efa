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


def filter_peaks(activations, filter_index):
    """Per-item spatial maximum of the filter's post-ReLU output; 0 means the filter never fired."""
    peaks = ops.max(ops.relu(activations), axis=(1, 2))
    return ops.take_along_axis(peaks, ops.expand_dims(filter_index, 1), axis=1)[:, 0]
