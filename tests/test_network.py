"""The network facts, preprocessing, and the cut model."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import network, vgg16


def test_thirteen_layers_4224_filters_and_keras_names():
    import keras

    assert len(vgg16.LAYERS) == 13 and vgg16.TOTAL_FILTERS == 4224
    model = keras.applications.VGG16(include_top=False, weights=None)
    convs = [l for l in model.layers if l.name.endswith(tuple(f"conv{i}" for i in (1, 2, 3)))]
    assert [l.name for l in convs] == [l.name for l in vgg16.LAYERS]
    assert [l.count_params() for l in convs] == [l.params for l in vgg16.LAYERS]


def test_receptive_fields():
    rf = {l.name: l.receptive_field for l in vgg16.LAYERS}
    assert rf["block1_conv1"] == 3 and rf["block1_conv2"] == 5 and rf["block2_conv1"] == 10
    assert rf["block3_conv3"] == 40 and rf["block5_conv3"] == 196


def test_flops_match_reference_figures():
    # ../shared/REFERENCE.md: block1_conv2 1.26 G, block3_conv3 6.10 G, block5_conv3 10.02 G at 128 px
    assert vgg16.flops_to("block1_conv2", 128) / 1e9 == pytest.approx(1.26, abs=0.01)
    assert vgg16.flops_to("block3_conv3", 128) / 1e9 == pytest.approx(6.10, abs=0.01)
    assert vgg16.flops_to("block5_conv3", 128) / 1e9 == pytest.approx(10.02, abs=0.01)


def test_torch_preprocessing_is_imagenet_mean_std():
    pixels = np.stack([vgg16.IMAGENET_MEAN * 255, (vgg16.IMAGENET_MEAN + vgg16.IMAGENET_STD) * 255])
    out = np.asarray(vgg16.preprocess(pixels.reshape(1, 2, 1, 3).astype(np.float32), "torch"))
    np.testing.assert_allclose(out.reshape(2, 3), [[0, 0, 0], [1, 1, 1]], atol=1e-5)


def test_caffe_preprocessing_is_bgr_minus_mean():
    rgb = np.array([10.0, 20.0, 30.0], np.float32).reshape(1, 1, 1, 3)
    out = np.asarray(vgg16.preprocess(rgb, "caffe")).reshape(3)
    np.testing.assert_allclose(out, [30 - 103.939, 20 - 116.779, 10 - 123.68], atol=1e-4)


def test_cut_model_is_pre_relu_of_the_real_layer(base):
    import keras

    x = np.random.default_rng(0).normal(0, 1, (1, 48, 48, 3)).astype(np.float32)
    cut = network.cut_model(base, "block3_conv2")
    post = keras.Model(base.input, base.get_layer("block3_conv2").output)(x)
    pre = cut(x)
    np.testing.assert_allclose(np.maximum(np.asarray(pre), 0), np.asarray(post), rtol=1e-4, atol=1e-4)
    assert np.asarray(pre).min() < 0  # really before the ReLU
