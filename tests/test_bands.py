"""A network whose input is not RGB: photos become its bands the way ``photo_bands`` names, a
picture in them is shown as a browser can show it and read back from its PNG exactly, and every
part of a picture (the parameterisations, the moves, the scorecard's moves) takes any band
count. The whole atlas of a one-band and a four-band model is drawn in tests/test_zoo.py."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import REPO
from pipeline.images import bands
from pipeline.images.bands import Bands
from pipeline.output import layout


@pytest.mark.parametrize("count,way", [(1, "grey"), (2, "grey"), (3, "rgb"), (3, "grey"), (4, "rgb+luminance"),
                                       (5, "rgb+flat")])
def test_a_picture_is_read_back_from_its_png_exactly(tmp_path, count, way):
    b = Bands(count, way)
    picture = np.random.default_rng(count).integers(0, 256, (24, 24, count), dtype=np.uint8)
    png = layout.write_png(tmp_path / "p.png", b.shown(picture))
    with Image.open(png) as im:
        # One band is a grey PNG; more than three, a colour panel and a grey panel per further band.
        assert im.mode == {1: "L", 2: "L"}.get(count, "RGB") and im.size == (24 * b.panels, 24)
    assert np.array_equal(b.unshown(layout.read_png(png)), picture)


def test_photos_become_the_bands_named():
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    pillow_grey = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    grey = Bands.of(1, "auto").from_rgb(rgb)
    assert grey.shape == (16, 16, 1) and np.abs(grey[..., 0].astype(int) - pillow_grey).max() <= 1  # Pillow's luma
    assert Bands.of(3, "auto").from_rgb(rgb) is rgb  # RGB untouched: every VGG16 picture as before
    rgbn = Bands(4, "rgb+luminance").from_rgb(rgb)
    assert np.array_equal(rgbn[..., :3], rgb) and np.array_equal(rgbn[..., 3], grey[..., 0])
    assert (Bands(5, "rgb+flat").from_rgb(rgb)[..., 3:] == bands.FLAT).all()


@pytest.mark.parametrize("count,way,allowed", [(1, "auto", True), (3, "auto", True), (4, "auto", False),
                                               (4, "grey", True), (1, "rgb", False), (3, "rgb+flat", False),
                                               (4, "rgb+flat", True), (2, "sepia", False)])
def test_which_ways_a_model_takes(count, way, allowed):
    assert (bands.problem(count, way) is None) == allowed


def test_the_schema_lists_every_way():
    schema = yaml.safe_load((REPO / "pipeline" / "config" / "schema.yaml").read_text())
    assert schema["properties"]["photo_bands"]["enum"] == list(bands.WAYS)


@pytest.mark.parametrize("count", [1, 4])
def test_every_parameterisation_draws_the_models_bands(count):
    from pipeline.optvis import param

    rngs = [np.random.default_rng(i) for i in range(2)]
    magnitude, grey = np.ones((3, 16, 9), np.float32), np.ones((1, 16, 9), np.float32)
    for image in (param.Pixels(16, 127.0, 10.0), param.Decorrelated(param.Pixels(16, 0.0, 0.01)),
                  param.FourierImage(16, 1.0, 0.0, 0.01), param.MacoImage(magnitude, grey)):
        banded = image.with_bands(count)
        pixels = np.asarray(banded.to_image(banded.start(rngs)))
        assert pixels.shape == (2, 16, 16, count), type(image).__name__
        assert image.with_bands(3) is image or image.with_bands(3) == image  # RGB: the method's own parts


def test_macos_grey_spectrum_draws_a_grey_photo_again(tmp_path):
    """Where a network takes other than RGB, MaCo holds photos' luminance spectrum in every band,
    measured in the space those bands are drawn in: a grey photo's phase over its own grey
    magnitude draws it again."""
    from pipeline.images import photos
    from pipeline.optvis import param, spectrum

    grey, _ = spectrum.natural("skimage", "skimage", 32, tmp_path, grey=True)
    colour, _ = spectrum.natural("skimage", "skimage", 32, tmp_path)  # both from one file
    assert grey.shape == (1, 32, 17) and colour.shape == (3, 32, 17)
    photo = photos.scorecard_photos(32)[3]
    luma = np.clip(photo @ bands.LUMA / 255.0, 1 / 255, 254 / 255)
    own = np.fft.rfft2(np.log(luma / (1 - luma)))[None]
    drawn = param.MacoImage(np.ones((3, 32, 17)), np.abs(own)).with_bands(1)
    pixels = np.asarray(drawn.to_image(np.angle(own)[None].astype(np.float32)))[0, ..., 0]
    assert np.abs(pixels - photo @ bands.LUMA).max() <= 1.5


def test_the_scorecards_moves_take_any_bands():
    from pipeline.measure import moves

    rgb = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    grey = Bands(1, "grey").from_rgb(rgb)
    moved_rgb, moved_grey = moves.moved_copies(rgb, 3), moves.moved_copies(grey, 3)
    assert moved_grey.shape == (6, 32, 32, 1)
    # Moved band by band, a grey copy is the grey of the colour copy, up to rounding.
    assert np.abs(moved_grey[..., 0] - moved_rgb @ bands.LUMA).max() < 3
