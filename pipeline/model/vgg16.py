"""What only VGG16 has here: Keras' full network with its classifier (the class images).

The network's layers are in its description (``description``, ``networks/vgg16.json``), like
every network's.
"""

from __future__ import annotations

from pathlib import Path

CLASSIFIER_SIZE = 224  # the fully connected layers fix the input size


def has_classifier(weights_file: str | Path) -> bool:
    """Whether a Keras ``.weights.h5`` holds the full VGG16 (with its three dense layers): read
    with h5py alone (deferred, as Keras below), so the config check at parse time starts no
    TensorFlow."""
    import h5py

    with h5py.File(weights_file, "r") as fh:
        return "layers" in fh and "dense_2" in fh["layers"]
