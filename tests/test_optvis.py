"""The ascent on the real weights: it raises its filter's activation, also on the saved PNG."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import VGG16, assert_collapsed_head_exact, renderer
from pipeline.model import network
from pipeline.model.preprocess import preprocess
from pipeline.images import photos
from pipeline.optvis import backend, deprocess, objectives, param, render, spectrum
from pipeline.optvis import caricature
from pipeline.config import recipes


@pytest.mark.parametrize("layer_name", ["block2_conv2", "block4_conv3"])
def test_classic_raises_each_filters_activation_on_the_saved_png(base, layer_name):
    # block4_conv3 filters 0 and 7 are exactly zero after the ReLU on a grey start: the
    # pre-ReLU objective is what lets them move at all.
    filters = [0, 7, 100]
    r = renderer(base, layer_name)
    results = r.render(filters, steps=10)
    png_means, png_peaks = r.measure(np.stack([x.image for x in results]), filters)
    for x, png in zip(results, png_means):
        assert x.final > x.initial + 1.0
        assert png > x.initial + 1.0
        assert x.curve[-1][0] == 10 and len(x.curve) == 10
        # Step 1 sees the untouched start, so the step loop's shortcut objective (weight map
        # on the previous layer) must read what the full network measured on it.
        assert x.curve[0][1] == pytest.approx(x.initial, rel=1e-4, abs=1e-3)
    assert (png_peaks > 0).all()


@pytest.mark.parametrize("method", ["fourier", "pixels"])
def test_fourier_and_pixels_raise_activation(base, method):
    r = renderer(base, "block3_conv1", method=method)
    results = r.render([0, 5], steps=24, progress=render.Progress(segment=8))
    for x in results:
        assert x.final > x.initial + 1.0
        assert x.image.dtype == np.uint8 and x.image.shape == (64, 64, 3)


def test_maco_raises_activation_and_keeps_a_transparency_map(base):
    r = renderer(base, "block3_conv1", method="maco")
    for x in r.render([0, 5], steps=24, progress=render.Progress(segment=8)):
        assert x.final > x.initial + 1.0
        assert x.image.dtype == np.uint8 and x.image.shape == (64, 64, 3)
        assert x.transparency.dtype == np.uint8 and x.transparency.shape == (64, 64)
        assert x.transparency.max() == 255 and x.transparency.std() > 10  # a map, not a constant
    assert renderer(base, "block3_conv1", method="fourier").render([0], steps=2)[0].transparency is None


def test_macos_spectrum_is_computed_offline_and_reproducible(tmp_path):
    """From skimage's photos, the same in two fresh caches and read back from one; it falls
    with frequency as photos' does; and it is MacoImage's own space: a photo's phase over its
    own magnitude draws the photo again."""
    a, file_a = spectrum.natural("skimage", "skimage", 64, tmp_path / "a")
    b, _ = spectrum.natural("skimage", "skimage", 64, tmp_path / "b")
    again, file_again = spectrum.natural("skimage", "skimage", 64, tmp_path / "a")
    assert a.shape == (3, 64, 33) and np.array_equal(a, b) and np.array_equal(a, again) and file_again == file_a
    with np.load(file_a) as saved:
        assert str(saved["source"]) == "skimage" and int(saved["images"]) == len(photos.PHOTOS)
    assert a[:, 1:4, 1:4].mean() > 10 * a[:, 24:40, 24:].mean()
    photo = photos.scorecard_photos(64)[3]
    own = np.fft.rfft2(spectrum.pixels_to_basis(photo[None]), axes=(2, 3))[0]
    drawn = np.asarray(param.MacoImage(np.abs(own)).to_image(np.angle(own)[None].astype(np.float32)))[0]
    assert np.abs(drawn - photo).max() <= 1.5


def test_a_caricature_stays_near_its_photo_and_excites_its_filter_more(base, real_weights):
    """Hamblin et al.'s accentuation: closer to the photo than the filter's own picture is,
    and a stronger answer from the filter than the photo gets."""
    filters = [0, 1]
    start = photos.scorecard_photos(64)[[3, 4]].astype(np.float32)
    artist = caricature.caricaturist(network.cut_model(base, "block4_conv2"), real_weights.preprocess, 0.1, 64, (0, 9))
    drawn = caricature.accentuate(artist, start, filters, 16).astype(np.float32)
    pictures = [r.image.astype(np.float32) for r in renderer(base, "block4_conv2", method="fourier").render(filters, 16)]
    assert (artist.measure(drawn, filters)[0] > artist.measure(start, filters)[0] + 1.0).all()
    for i in range(2):
        rms = np.sqrt(np.mean((drawn[i] - start[i]) ** 2))
        assert 0 < rms < np.sqrt(np.mean((pictures[i] - start[i]) ** 2))


def test_batches_are_near_equal():
    assert [len(b) for b in render.batches(list(range(10)), 4)] == [4, 4, 2]
    assert [len(b) for b in render.batches(list(range(64)), 48)] == [32, 32]
    assert sum(map(len, render.batches(list(range(7)), 100))) == 7


def test_auto_batch_size_shrinks_with_depth_and_size():
    small = recipes.batch_size("auto", VGG16, VGG16.layer("block5_conv3"), 224, 8 * 2**30)
    large = recipes.batch_size("auto", VGG16, VGG16.layer("block1_conv1"), 128, 8 * 2**30)
    assert 1 <= small < large <= 256


def test_chollet_deprocess():
    x = np.random.default_rng(0).normal(5, 3, (32, 32, 3))
    out = deprocess.chollet(x)
    assert out.dtype == np.uint8
    assert abs(out.mean() - 127.5) < 1.5 and abs(out.std() - 25.5) < 1.5
    flat = deprocess.chollet(np.full((4, 4, 3), 7.0))
    assert (flat == 128).all()


def test_fourier_basis_equals_numpy_irfft2():
    rng = np.random.default_rng(0)
    for size in (32, 33):
        f = param.FourierImage(size, decay=1.0, cutoff=0.0, sd=0.01)
        spec = rng.normal(size=(2, 2, 3, size, size // 2 + 1)).astype(np.float32)
        got = np.asarray(f.irfft2(spec))
        want = np.fft.irfft2(spec[:, 0] + 1j * spec[:, 1], s=(size, size))
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("method,steps", [("classic", 10), ("fourier", 32)])
def test_bfloat16_images_match_float32(base, method, steps):
    """The mixed-precision option is a speed knob, not a different picture: the same pattern
    (pixels correlate), and as strong on the float32 network (within 10%)."""
    images, judge = {}, None
    for precision in ("float32", "bfloat16"):
        r = renderer(base, "block3_conv2", method, precision=precision)
        judge = judge or r
        images[precision] = np.stack([x.image for x in r.render([0, 9], steps)])
    a, b = images["float32"], images["bfloat16"]
    corr = np.corrcoef(a.astype(float).ravel(), b.astype(float).ravel())[0, 1]
    assert corr > 0.8, corr
    act_a, act_b = judge.measure(a, [0, 9])[0], judge.measure(b, [0, 9])[0]
    np.testing.assert_allclose(act_b, act_a, rtol=0.1)


@pytest.mark.parametrize("layer_name", ["block1_conv1", "block2_conv1", "block4_conv3"])
def test_collapsed_head_equals_the_full_layer(base, layer_name):
    """The shortcut the step loop takes is exact: same objective, same gradient. Not square, and
    not a multiple of the pools: the weight map must still line up."""
    assert_collapsed_head_exact(network.cut_model(base, layer_name), (3, 41, 36, 3), [0, 5, 17], "torch")


def test_diversity_gives_distinct_images_that_still_excite_the_filter(base):
    similarity = {}
    for weight in (0.0, 10.0):
        r = renderer(base, "block4_conv2", "fourier", diversity=3, diversity_weight=weight)
        (res,) = r.render([5], steps=48)
        images = np.stack([res.image] + res.diverse)
        assert len(res.diverse) == 2 and res.filter == 5
        means, _ = r.measure(images, [5, 5, 5])
        assert (means > res.initial + 1).all()  # every one of them still excites filter 5
        # Diversity is judged where it acts: Gram similarity of the target conv's input.
        pre = network.cut_model(base, "block4_conv1")(preprocess(images.astype(np.float32), "torch"))
        feats = np.maximum(np.asarray(pre), 0)  # block4_conv2 sees block4_conv1 after its ReLU
        penalty = np.asarray(objectives.gram_dissimilarity(feats, np.array([0, 0, 0], np.int32)))
        similarity[weight] = -penalty.mean()
    assert similarity[10.0] < 0.8 * similarity[0.0]


def test_post_relu_objective_is_stuck_where_pre_relu_is_not(base):
    """Why the objective is taken before the ReLU: on Chollet's grey start these filters are
    exactly zero after it, and so is their gradient."""
    import keras
    import tensorflow as tf

    filters = [0, 7, 100]
    x = tf.constant(np.random.default_rng(0).normal(127, 10, (3, 128, 128, 3)).astype(np.float32))
    post = keras.Model(base.input, base.get_layer("block4_conv3").output)
    pre = network.cut_model(base, "block4_conv3")
    idx = tf.constant(filters, tf.int32)
    for model, stuck in ((post, True), (pre, False)):
        _, g = backend.gradient(lambda im: objectives.filter_means(model(preprocess(im, "torch")), idx), x)
        per_item = np.abs(np.asarray(g)).max(axis=(1, 2, 3))
        assert ((per_item == 0) if stuck else (per_item > 0)).all()


def test_objectives_compose_like_numbers():
    """Lucid's algebra: sums, scalings and differences of objectives are objectives."""
    import tensorflow as tf

    acts = tf.constant(np.random.default_rng(2).normal(size=(2, 5, 5, 4)).astype(np.float32))
    targets = tf.constant([1, 3], tf.int32)
    fwd = objectives.Forward(acts)
    channel = np.asarray(objectives.channel()(fwd, targets))
    np.testing.assert_allclose(channel, np.asarray(acts).mean(axis=(1, 2))[[0, 1], [1, 3]], rtol=1e-5)
    combo = 2.0 * objectives.channel() - objectives.channel() + 0.5 * objectives.diversity()
    want = channel + 0.5 * np.asarray(objectives.gram_dissimilarity(acts, targets))
    np.testing.assert_allclose(np.asarray(combo(fwd, targets)), want, rtol=1e-5)
    assert "diversity" in combo.description and "channel mean" in combo.description


def test_a_resumed_jobs_time_left_counts_only_this_runs_pace(monkeypatch):
    """60 of 100 filter-steps done, 50 of them brought by a killed run's saved state, 10 s since
    this run began: 40 to go at 1 a second, not at 6 a second."""
    from pipeline.jobs.ascend import batches as ascend

    clock = ascend.Clock(100)
    monkeypatch.setattr(ascend.time, "perf_counter", lambda: clock.t0 + 10.0)
    assert clock.left(60, 50) == "job about 40 s left"
    assert clock.left(60) == "job about 7 s left"  # a fresh batch: all 60 were this run's
    clock.finished(60, 50)  # the resumed batch ends; its inherited steps stay out of the pace
    assert clock.left(0) == "job about 40 s left"


def test_a_saved_state_says_where_it_resumes_without_loading_the_state(tmp_path):
    from pipeline.optvis import render

    path = tmp_path / "batch.npz"
    mine, theirs = render.Checkpoint(path, "mine"), render.Checkpoint(path, "theirs")
    assert mine.resumes_from() == 0  # nothing saved
    mine.save(np.zeros((2, 3)), (np.zeros(2),), [np.zeros((4, 2))], 40, np.zeros(2), [0, 1])
    assert mine.resumes_from() == 40 and theirs.resumes_from() == 0  # another batch's key
    path.write_bytes(b"torn")
    assert mine.resumes_from() == 0 and mine.load() is None


def test_the_terminal_hears_from_a_job_about_once_a_minute(monkeypatch, capsys):
    """Progress lines every 30 s: all into the log (stderr), every other one to the terminal
    (stdout); a job's start and end always."""
    from pipeline.jobs import common

    now = [0.0]
    monkeypatch.setattr(common.time, "monotonic", lambda: now[0])
    terminal = common.Terminal()
    terminal.say("start")
    for i in range(1, 7):
        now[0] = 30.0 * i
        print(f"step {i}", file=terminal)
    terminal.say("done")
    out, err = capsys.readouterr()
    assert err.splitlines() == ["start", *[f"step {i}" for i in range(1, 7)], "done"]
    assert out.splitlines() == ["start", "step 2", "step 4", "step 6", "done"]


def test_the_precision_guard_is_calibrated_by_a_second_seed(base):
    """``precision: auto``'s guard on a small draw (measure/precision.py): a second float32 seed
    moves the pictures, so the spread it sets is real; bfloat16's pictures stay within it; and
    a picture of nothing (flat grey) falls outside it."""
    from pipeline.measure.precision import Changes, holds
    from pipeline.measure.probe import Probe

    layer, filters, steps = "block3_conv2", [0, 9, 21], 32
    pictures = {(precision, seed): np.stack([x.image for x in renderer(base, layer, "fourier", seed=seed,
                                                                       precision=precision).render(filters, steps)])
                for precision, seed in (("float32", 0), ("float32", 1), ("bfloat16", 0))}
    probe, reference = Probe(network.cut_model(base, layer), "torch"), pictures["float32", 0]
    seed = Changes.between(probe, reference, pictures["float32", 1], filters)
    assert seed.activation.max() > 0.01 and np.nanmax(seed.robustness) > 0.001
    assert holds(seed, Changes.between(probe, reference, pictures["bfloat16", 0], filters))
    assert not holds(seed, Changes.between(probe, reference, np.full_like(reference, 128), filters))


def test_the_precision_guard_on_known_changes():
    """bfloat16 no further than a seed holds; ten times as far, or a picture that no longer
    fires (no robustness), does not."""
    from pipeline.measure.precision import Changes, holds

    seed = Changes(np.array([0.01, 0.03, 0.02]), np.array([0.010, np.nan, 0.020]))
    assert holds(seed, Changes(np.array([0.02, 0.01, 0.03]), np.array([0.02, 0.01, 0.015])))
    assert not holds(seed, Changes(np.array([0.2, 0.3, 0.25]), np.array([0.02, 0.01, 0.015])))
    assert not holds(seed, Changes(np.array([0.02, 0.01, 0.03]), np.array([0.02, np.nan, 0.015])))
