"""How a network wants its input: RGB pixels in [0, 255] scaled the way its weights were trained.

NumPy facts and one Keras op (deferred: the Snakefile reads this module at parse time).
"""

from __future__ import annotations

import numpy as np

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
IMAGENET_MEAN_RGB = IMAGENET_MEAN * 255.0  # the "nothing here" colour, in pixels
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
# name -> what it does, as the config's description and the one-line errors say it
MODES = {
    "torch": "torchvision's: RGB in [0, 1], ImageNet mean and std",
    "caffe": "Caffe's: BGR, ImageNet mean subtracted, [0, 255]",
    "tf": "[-1, 1], Keras' 'tf' mode",
    "unit": "[0, 1]",
    "raw": "[0, 255] as is, for a model that scales its own input",
}
BAND_WISE = ("tf", "unit", "raw")  # the scalings that treat every band alike: any band count takes them


def neutral(bands: int) -> np.ndarray:
    """The "nothing here" pixel of a ``bands``-band input: ImageNet's mean colour, or its grey."""
    return IMAGENET_MEAN_RGB if bands == 3 else np.full(bands, IMAGENET_MEAN_RGB.mean(), np.float32)


def preprocess(images, mode: str):
    """RGB pixels in [0, 255] to what the weights were trained on (a Keras op, differentiable)."""
    from keras import ops  # deferred: Keras starts TensorFlow, and this module is read at parse time

    if mode == "torch":
        return (images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    if mode == "caffe":
        return ops.flip(images, axis=-1) - CAFFE_MEAN_BGR
    if mode == "tf":
        return images / 127.5 - 1.0
    if mode == "unit":
        return images / 255.0
    if mode == "raw":
        return images
    raise ValueError(f"preprocess mode {mode!r}: allowed {tuple(MODES)}")


def bounds(mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value each input channel (in the network's own order) can take;
    one value for every band where the scaling treats them alike (:data:`BAND_WISE`)."""
    shape = () if mode in BAND_WISE else (3,)
    lo, hi = np.zeros(shape, np.float32), np.full(shape, 255.0, np.float32)
    if mode == "torch":
        return (lo / 255.0 - IMAGENET_MEAN) / IMAGENET_STD, (hi / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    if mode == "caffe":
        return lo - CAFFE_MEAN_BGR, hi - CAFFE_MEAN_BGR
    if mode == "tf":
        return lo - 1.0, hi / 127.5 - 1.0
    if mode == "unit":
        return lo, hi / 255.0
    return lo, hi
