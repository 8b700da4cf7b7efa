"""The network's description, preprocessing, and the cut models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.model import describe, description, network
from pipeline.model.preprocess import IMAGENET_MEAN, IMAGENET_STD, bounds, preprocess


def test_thirteen_layers_4224_filters_and_keras_names(vgg16):
    import keras

    assert len(vgg16.layers) == 13 and vgg16.total_filters == 4224
    model = keras.applications.VGG16(include_top=False, weights=None)
    convs = [l for l in model.layers if l.name.endswith(tuple(f"conv{i}" for i in (1, 2, 3)))]
    assert [l.name for l in convs] == [l.name for l in vgg16.layers]
    assert [l.count_params() for l in convs] == [l.params for l in vgg16.layers]


def test_receptive_fields_blocks_and_reads(vgg16):
    rf = {l.name: l.receptive_field for l in vgg16.layers}
    assert rf["block1_conv1"] == 3 and rf["block1_conv2"] == 5 and rf["block2_conv1"] == 10
    assert rf["block3_conv3"] == 40 and rf["block5_conv3"] == 196
    assert [l.block for l in vgg16.layers] == [int(l.name[5]) for l in vgg16.layers]
    assert [l.reads for l in vgg16.layers] == [""] + [l.name for l in vgg16.layers[:-1]]
    assert vgg16.min_size == 32 and vgg16.input_size is None


def test_flops_match_reference_figures(vgg16):
    # ../shared/REFERENCE.md: block1_conv2 1.26 G, block3_conv3 6.10 G, block5_conv3 10.02 G at 128 px
    assert vgg16.flops_to("block1_conv2", 128) / 1e9 == pytest.approx(1.26, abs=0.01)
    assert vgg16.flops_to("block3_conv3", 128) / 1e9 == pytest.approx(6.10, abs=0.01)
    assert vgg16.flops_to("block5_conv3", 128) / 1e9 == pytest.approx(10.02, abs=0.01)


@pytest.mark.parametrize("model", description.BUILT_IN)
def test_the_shipped_descriptions_are_what_keras_graph_gives(model):
    """networks/*.json is a checked cache of ``describe`` on the Keras model: one home, Keras'."""
    assert description.to_json(describe.built_in(model)) == (description.HERE / f"{model}.json").read_text()


def test_alexnet_is_torchvisions_features():
    net = description.of("alexnet", Path())
    assert [(l.name, l.filters, l.kernel, l.stride, l.receptive_field) for l in net.layers] == [
        ("conv1", 64, 11, 4, 11), ("conv2", 192, 5, 8, 51), ("conv3", 384, 3, 16, 99),
        ("conv4", 256, 3, 16, 131), ("conv5", 256, 3, 16, 163)]
    assert net.min_size == 63 and net.total_filters == 1152 and net.preprocess == "torch"


def geometry_twin(model):
    """``model`` with every kernel weight positive (each conv an average) and nothing that can
    cancel or pick (no activation, max pools as average pools): a unit's input gradient then
    covers exactly its receptive field."""
    import keras

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.Conv2D):
            average = keras.initializers.Constant(1.0 / np.prod(layer.kernel.shape[:3]))
            return keras.layers.Conv2D.from_config(
                {**config, "activation": "linear", "use_bias": False, "kernel_initializer": average})
        if isinstance(layer, keras.layers.MaxPooling2D):
            return keras.layers.AveragePooling2D.from_config(config)
        if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
            return keras.layers.Activation("linear", name=layer.name)
        return layer.__class__.from_config(config)
    return keras.models.clone_model(model, clone_function=clone)


@pytest.mark.parametrize("model,side,layers", [
    ("vgg16", 224, ["block1_conv1", "block2_conv2", "block3_conv1", "block5_conv3"]),
    ("alexnet", 224, ["conv1", "conv2", "conv5"]),  # torch's padding before each conv, strided convs
    ("tiny_resnet", 64, ["stem", "res_b", "head"]),  # 'same' convs, a residual sum, a pool
])
def test_each_units_field_is_centred_where_the_description_says(model, side, layers, tmp_path):
    """The dataset examples' windows (``ConvLayer.centre``): a middle unit's field, traced by its
    input gradient, spans the receptive field around ``offset + index x stride``."""
    import keras

    from conftest import residual_cnn
    from pipeline.optvis import backend

    if model == "tiny_resnet":
        keras_model = keras.saving.load_model(residual_cnn(tmp_path / "tiny.keras"), compile=False)
        net = describe.describe(keras_model, model, model, "tf")
    else:
        net = description.of(model, Path())
        keras_model = network.conv_base(net)
    twin = geometry_twin(keras_model)
    x = keras.ops.zeros((1, side, side, 3))
    for name in layers:
        lyr = net.layer(name)
        cut = keras.Model(twin.input, twin.get_layer(name).output)
        middle = (side // lyr.stride) // 2
        _, grad = backend.gradient(lambda image: cut(image)[:, middle, middle, 0], x)
        rows = np.flatnonzero(np.abs(np.asarray(grad)[0]).sum(axis=(1, 2)))
        assert rows[-1] - rows[0] + 1 == lyr.receptive_field, name
        assert (rows[0] + rows[-1]) / 2 == middle * lyr.stride + lyr.offset, name
        assert lyr.centre(middle) == (rows[0] + rows[-1]) // 2, name


def test_torch_preprocessing_is_imagenet_mean_std():
    pixels = np.stack([IMAGENET_MEAN * 255, (IMAGENET_MEAN + IMAGENET_STD) * 255])
    out = np.asarray(preprocess(pixels.reshape(1, 2, 1, 3).astype(np.float32), "torch"))
    np.testing.assert_allclose(out.reshape(2, 3), [[0, 0, 0], [1, 1, 1]], atol=1e-5)


def test_caffe_preprocessing_is_bgr_minus_mean():
    rgb = np.array([10.0, 20.0, 30.0], np.float32).reshape(1, 1, 1, 3)
    out = np.asarray(preprocess(rgb, "caffe")).reshape(3)
    np.testing.assert_allclose(out, [30 - 103.939, 20 - 116.779, 10 - 123.68], atol=1e-4)


@pytest.mark.parametrize("mode", ["torch", "caffe", "tf", "unit", "raw"])
def test_every_scaling_maps_black_and_white_to_its_bounds(mode):
    lo, hi = bounds(mode)
    ends = np.array([[0.0] * 3, [255.0] * 3], np.float32).reshape(1, 2, 1, 3)
    out = np.asarray(preprocess(ends, mode)).reshape(2, 3)
    np.testing.assert_allclose(np.minimum(out[0], out[1]), lo, atol=1e-4)
    np.testing.assert_allclose(np.maximum(out[0], out[1]), hi, atol=1e-4)


def test_cut_model_is_pre_relu_of_the_real_layer(base):
    import keras

    x = np.random.default_rng(0).normal(0, 1, (1, 48, 48, 3)).astype(np.float32)
    cut = network.cut_model(base, "block3_conv2")
    post = keras.Model(base.input, base.get_layer("block3_conv2").output)(x)
    pre = cut(x)
    np.testing.assert_allclose(np.maximum(np.asarray(pre), 0), np.asarray(post), rtol=1e-4, atol=1e-4)
    assert np.asarray(pre).min() < 0  # really before the ReLU
    assert [l.name for l in cut.layers][-1] == "block3_conv2" and len(cut.layers) == 9  # nothing past it
