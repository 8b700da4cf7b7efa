"""The quality measures, and the fourier method beating classic on them on the real weights."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import renderer
from pipeline import quality, vgg16


def test_spectral_share_of_noise_and_of_a_smooth_image():
    rng = np.random.default_rng(0)
    noise = rng.normal(128, 40, (128, 128, 3))
    # White noise spreads power evenly: the share is the area outside radius 0.25, 1 - pi/16.
    assert quality.spectral_share(noise) == pytest.approx(1 - np.pi / 16, abs=0.02)
    yy, xx = np.mgrid[0:128, 0:128]
    smooth = np.stack([np.sin(2 * np.pi * xx / 64)] * 3, -1) * 50 + 128
    assert quality.spectral_share(smooth) < 0.001


def test_photos_are_low_frequency():
    shares = [quality.spectral_share(p) for p in quality.photos(128)]
    assert len(shares) == len(quality.PHOTOS) and np.median(shares) < 0.1


@pytest.fixture(scope="module")
def compared(base, real_weights):
    layer_name, filters = "block3_conv1", [0, 5]
    cut = vgg16.cut_model(base, layer_name)
    probe = quality.Probe(cut, real_weights.preprocess)
    photo_acts = probe.activations(quality.photos(128))
    out = {}
    for method, steps in (("classic", 20), ("fourier", 96)):
        r = renderer(base, layer_name, method, size=128)
        out[method] = [(x.image, x.filter) for x in r.render(filters, steps)]
    return probe, photo_acts, out


def test_fourier_is_smoother_than_classic(compared):
    _, _, out = compared
    for (c, _), (f, _) in zip(out["classic"], out["fourier"]):
        assert quality.spectral_share(f) < quality.spectral_share(c)


def test_fourier_is_more_robust_than_classic(compared):
    probe, _, out = compared
    for (c, fi), (f, _) in zip(out["classic"], out["fourier"]):
        assert probe.robustness(f, fi) > probe.robustness(c, fi)


def test_fourier_beats_every_photo(compared):
    probe, photo_acts, out = compared
    for image, fi in out["fourier"]:
        assert probe.strength(image, fi, photo_acts) > 1.0
