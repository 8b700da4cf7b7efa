"""The scorecard's measures, and the fourier method beating classic on them on the real weights."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import VGG16, renderer
from pipeline import config
from pipeline.config import estimate, settings
from pipeline.images import photos
from pipeline.measure import scorecard
from pipeline.measure.probe import Probe, render_loop_copies
from pipeline.model import network
from pipeline.optvis import render


def test_spectral_share_of_noise_and_of_a_smooth_image():
    rng = np.random.default_rng(0)
    noise = rng.normal(128, 40, (128, 128, 3))
    # White noise spreads power evenly: the share is the area outside radius 0.25, 1 - pi/16.
    assert scorecard.spectral_share(noise) == pytest.approx(1 - np.pi / 16, abs=0.02)
    yy, xx = np.mgrid[0:128, 0:128]
    smooth = np.stack([np.sin(2 * np.pi * xx / 64)] * 3, -1) * 50 + 128
    assert scorecard.spectral_share(smooth) < 0.001


def test_photos_are_low_frequency():
    shares = [scorecard.spectral_share(p) for p in photos.scorecard_photos(128)]
    assert len(shares) == len(photos.PHOTOS) and np.median(shares) < 0.1


@pytest.fixture(scope="module")
def compared(base, real_weights):
    layer_name, filters = "block3_conv1", [0, 5]
    cut = network.cut_model(base, layer_name)
    probe = Probe(cut, real_weights.preprocess)
    photo_acts = probe.activations(photos.scorecard_photos(128))
    out = {}
    for method, steps in (("classic", 20), ("fourier", 96)):
        r = renderer(base, layer_name, method, size=128)
        out[method] = [(x.image, x.filter) for x in r.render(filters, steps)]
    return probe, photo_acts, out


def test_fourier_is_smoother_than_classic(compared):
    _, _, out = compared
    for (c, _), (f, _) in zip(out["classic"], out["fourier"]):
        assert scorecard.spectral_share(f) < scorecard.spectral_share(c)


def test_fourier_is_more_robust_than_classic(compared):
    probe, _, out = compared
    for (c, fi), (f, _) in zip(out["classic"], out["fourier"]):
        assert probe.robustness(f, fi) > probe.robustness(c, fi)


def test_fourier_beats_every_photo(compared):
    probe, photo_acts, out = compared
    for image, fi in out["fourier"]:
        assert probe.strength(image, fi, photo_acts) > 1.0


def render_recipe(base, layer_name: str, filters: list[int], overrides: dict):
    """Images and final activations of ``filters`` under the config's defaults plus ``overrides``."""
    cfg = config.load(overrides={"layers": [layer_name], **overrides})
    s = settings.ascent(cfg, layer_name)
    r = render.for_filters(network.cut_model(base, layer_name), VGG16.layer(layer_name), s, "torch")
    flops = estimate.ascent_flops(VGG16, layer_name, s.steps, s.size + 2 * s.knobs.pad)
    return r.render(filters, s.steps), flops


LUCID = {"fourier": {"schedule": "lucid"}}


def test_lucid_recipe_is_the_old_default_by_name():
    old = {"lr": 0.05, "pad": 12, "canvas": "reflect", "cutoff": 0.22, "jitter": 8, "rotate": 10}
    for layer_name in ("block1_conv1", "block5_conv3"):
        s = settings.ascent(config.load(overrides=LUCID), layer_name)
        assert s.steps == 512 and {k: getattr(s.knobs, k) for k in old} == old
    # The default: cosine before block 5, wsd in it; both under a third of Lucid's steps.
    assert settings.ascent(config.load(), "block4_conv3").knobs.schedule == "cosine"
    deep = settings.ascent(config.load(), "block5_conv1")
    assert deep.knobs.schedule == "wsd" and deep.knobs.cutoff > 0.22 and deep.steps < 512 / 3


def test_default_reaches_more_activation_per_flop_than_lucid(base):
    """At modest steps (48 each), on filters of two blocks: activation over executed FLOPs."""
    for layer_name, filters in (("block2_conv2", [9, 40]), ("block4_conv1", [21, 300])):
        new, new_flops = render_recipe(base, layer_name, filters, {"steps": 48})
        old, old_flops = render_recipe(base, layer_name, filters, {"steps": 48, **LUCID})
        for a, b in zip(new, old):
            assert a.final / new_flops > b.final / old_flops, (layer_name, a.filter, a.final, b.final)
            assert a.final > b.final  # more activation outright, in fewer FLOPs


@pytest.mark.slow
@pytest.mark.parametrize("layer_name,f", [("block4_conv3", 61), ("block5_conv1", 222)])
def test_default_holds_up_when_moved_with_border_loss_counted(base, real_weights, layer_name, f):
    """The default recipe, at its own steps and size: copies moved as the render loop moves
    them, on a mean-colour canvas, keep at least 80% of the activation (what the recipes were
    tuned for), a photo editor's antialiased moves keep less (they blur fine detail away; the
    0.8 goal there is not reached yet, docs/benchmarks.md), and the picture beats every photo."""
    (res,), _ = render_recipe(base, layer_name, [f], {})
    probe = Probe(network.cut_model(base, layer_name), real_weights.preprocess)
    render_loop = probe.robustness(res.image, f, copies=render_loop_copies)
    assert render_loop >= 0.8
    assert probe.robustness(res.image, f) < render_loop
    assert probe.strength(res.image, f, probe.activations(photos.scorecard_photos(128))) > 1
