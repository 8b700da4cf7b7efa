"""The perceptual distances MIS scores with (``measure/trust.py``).

- ``lpips-vgg`` (Zhang et al. 2018, v0.1), the default. Its backbone is torchvision's VGG16,
  the atlas' default weights; its linear heads ship in the same PyPI archive. The distance
  between two images is, summed over relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3, the
  spatial mean of the head-weighted squared difference of channel-normalised features. That is
  a squared Euclidean distance between one embedding per image (each layer's normalised
  features times the square root of its head, over the square root of its positions), so each
  image goes through the network once and every pair costs a dot product.
  LPIPS' own input scaling, ``(x - shift) / scale`` on [-1, 1], is exactly torchvision's
  mean/std normalisation, so the images go in as the atlas' default weights take them.
- a Keras model file (``.keras``) that maps (n, 64, 64, 3) RGB pixels in [0, 255] to one
  embedding per image, for a similarity whose weights the user supplies (an exported DreamSim,
  say): the distance is DreamSim's, 1 - cosine similarity.

Either way images are compared as :data:`SIDE` px squares: LPIPS was trained on 64 px patches.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import ops

from ..model import description
from ..model import weights as weights_files
from ..model.builtins import LPIPS_BACKBONE
from ..model.preprocess import preprocess
from ..optvis import backend

LPIPS = "lpips-vgg"
SIDE = 64
LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


class Similarity:
    """Embeds images so that :meth:`distances` between embeddings is the perceptual distance."""

    def __init__(self, setting: str, cache: Path, base_if_default=None):
        self.setting = setting
        if setting == LPIPS:
            base = base_if_default
            if base is None:  # the atlas studies another network or weights: LPIPS keeps its own VGG16
                vgg16 = description.of(LPIPS_BACKBONE, cache)
                default = weights_files.resolve(weights_files.DEFAULT, cache, "torch", vgg16)
                weights_files.ensure(default, weights_files.DEFAULT, vgg16)
                base = weights_files.load_base(default, vgg16)
            model = keras.Model(base.input, [base.get_layer(name).output for name in LAYERS])
            scale = [np.sqrt(h).astype(np.float32) for h in weights_files.lpips_heads(cache)]
            self.cosine = False

            def embedding(x):  # one compiled pass: features, normalised, weighted, flattened
                parts = []
                for f, w in zip(model(preprocess(x, "torch")), scale):
                    f = f / (ops.sqrt(ops.sum(f * f, axis=-1, keepdims=True)) + 1e-10)
                    positions = ops.cast(ops.shape(f)[1] * ops.shape(f)[2], "float32")
                    parts.append(ops.reshape(f * w / ops.sqrt(positions), (ops.shape(f)[0], -1)))
                return ops.concatenate(parts, axis=1)
            self.forward = backend.compile(embedding)
        else:
            model = keras.saving.load_model(setting, compile=False)
            self.cosine = True
            self.forward = backend.compile(lambda x: model(x))

    def embed(self, images: np.ndarray, batch: int = 32) -> np.ndarray:
        """(n, SIDE, SIDE, 3) uint8 -> (n, d) float32 embeddings."""
        out = []
        for i in range(0, len(images), batch):
            e = np.asarray(self.forward(np.asarray(images[i:i + batch], np.float32)), np.float32)
            if self.cosine:
                e = e.reshape(len(e), -1)
                e = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-10)
            out.append(e)
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    def distances(self, a: np.ndarray, b: np.ndarray, b_squared: np.ndarray | None = None) -> np.ndarray:
        """(len(a), len(b)) distances between embeddings (``b_squared``: ``b``'s squared norms,
        where the caller keeps them)."""
        if self.cosine:
            return 1.0 - a @ b.T
        b_squared = (b * b).sum(1) if b_squared is None else b_squared
        sq = (a * a).sum(1)[:, None] + b_squared[None, :] - 2.0 * a @ b.T
        return np.maximum(sq, 0.0)
