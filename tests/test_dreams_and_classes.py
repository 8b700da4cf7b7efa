"""Dreams on photos and class visualisations (the rest of Chollet 2016), on the real weights."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline import config
from pipeline.config import settings
from pipeline.images import photos
from pipeline.jobs.classes import classes
from pipeline.jobs.dream import dream
from conftest import VGG16
from pipeline.model import network
from pipeline.optvis import dream as dreaming
from pipeline.errors import AtlasError

TINY_DREAM = {"name": "cat", "photo": "skimage:chelsea", "layer": "block4_conv2", "filters": [1, 2],
              "steps": 4, "octaves": 2, "size": 96}


def test_dream_on_the_cat_raises_its_filters(tmp_path, real_weights, capsys):
    cfg = config.load(overrides={"outdir": str(tmp_path), "dreams": [TINY_DREAM]})
    png, original, meta = dream(settings.dream(cfg, "cat"))
    terminal, log = capsys.readouterr()  # the job talks: its start and end in the terminal, all in the log
    assert "dream cat: skimage:chelsea" in terminal and "dream cat: activation" in terminal
    assert "octave 2/2" in log and "step 4/4: mean activation" in log
    for path in (png, original):
        with Image.open(path) as im:
            assert im.size == (96, 64) and im.mode == "RGB"  # chelsea is 451x300: aspect kept
    import json

    data = json.loads(meta.read_text())
    assert data["activation"]["dream"] > data["activation"]["photo"] + 1
    assert data["filters"] == [1, 2] and data["layer"] == "block4_conv2"
    before, after = np.asarray(Image.open(original), float), np.asarray(Image.open(png), float)
    assert 2 < np.abs(after - before).mean() < 80  # changed, but still the photo


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_photo_modes_become_rgb(tmp_path, mode):
    img = Image.new(mode, (50, 30))
    if mode == "RGBA":
        img = Image.new("RGBA", (50, 30), (255, 0, 0, 0))  # fully transparent red
    path = tmp_path / f"p-{mode}.png"
    img.save(path)
    rgb = photos.load(str(path))
    assert rgb.shape == (30, 50, 3) and rgb.dtype == np.uint8
    if mode == "RGBA":
        assert (rgb == 255).all()  # transparency shows as white, not as the hidden colour


def test_any_aspect_is_fitted_without_cropping():
    tall = np.zeros((300, 60, 3), np.uint8)
    assert dreaming.fit(tall, 150, 32).shape == (150, 32, 3)  # never below VGG16's 32 px
    assert dreaming.fit(np.zeros((100, 400, 3), np.uint8), 200, 32).shape == (50, 200, 3)


def test_missing_and_unreadable_photos_are_named(tmp_path):
    with pytest.raises(AtlasError, match="nowhere.jpg' does not exist"):
        config.load(overrides={"dreams": [{**TINY_DREAM, "photo": str(tmp_path / "nowhere.jpg")}]})
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(AtlasError, match="notes.png' could not be read as an image"):
        photos.load(str(bad))
    with pytest.raises(AtlasError, match="skimage:dog"):
        config.load(overrides={"dreams": [{**TINY_DREAM, "photo": "skimage:dog"}]})


def test_class_target_without_classifier_is_one_line():
    with pytest.raises(AtlasError) as info:
        config.load(overrides={"classes": [{"name": "sea-snake", "class": 65}]})
    message = str(info.value)
    assert "carry no classifier" in message and "keras-imagenet" in message and "\n" not in message


@pytest.fixture(scope="module")
def full_weights(tmp_path_factory, base):
    """Real conv weights under a classifier whose weights are random but fixed by seed."""
    import keras

    keras.utils.set_random_seed(0)
    full = network.full_model(None)
    for lyr in VGG16.layers:
        full.get_layer(lyr.name).set_weights(base.get_layer(lyr.name).get_weights())
    path = tmp_path_factory.mktemp("full") / "vgg16-random-top.weights.h5"
    full.save_weights(str(path))
    return path


def test_class_probability_climbs_past_099(tmp_path, full_weights):
    cfg = config.load(overrides={"outdir": str(tmp_path), "weights": str(full_weights),
                                 "dreams": [], "classes": [{"name": "sea-snake", "class": 65, "steps": 24}]})
    written = classes(settings.classes(cfg))
    import json

    meta = json.loads(written[1].read_text())
    assert meta["class"] == 65 and meta["probability"] > 0.99
    assert meta["curve"][0][1] < 0.5  # it started unsure: the ascent did the work
    with Image.open(written[0]) as im:
        assert im.size == (224, 224)


def test_full_weights_file_also_serves_the_conv_atlas(full_weights, base):
    conv = network.conv_base(VGG16, full_weights)
    np.testing.assert_array_equal(conv.get_layer("block5_conv3").get_weights()[0],
                                  base.get_layer("block5_conv3").get_weights()[0])
