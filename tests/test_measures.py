"""What is measured beside the pictures, on the real weights: circuits, the scorecard's probe, dead filters, twins."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import VGG16, renderer
from pipeline import config
from pipeline.config import settings
from pipeline.images import photos
from pipeline.measure import circuits, moves, twins
from pipeline.measure.probe import Probe
from pipeline.model import network
from pipeline.model.preprocess import IMAGENET_MEAN, IMAGENET_MEAN_RGB, IMAGENET_STD, preprocess
from pipeline.optvis import render, transform


@pytest.fixture(scope="module")
def kernels(base):
    return circuits.kernels(base, VGG16)


def numpy_ranking(kernel: np.ndarray, axis_other: int, f: int) -> list[tuple[int, str]]:
    """The plain computation: one 3x3 slice per neighbour, its L2 norm and the sign of its sum."""
    slices = np.take(kernel, f, axis=3 if axis_other == 2 else 2)  # (3, 3, neighbours)
    flat = slices.reshape(9, -1)
    norms = np.linalg.norm(flat.astype(np.float64), axis=0)
    top = sorted(range(len(norms)), key=lambda i: (-norms[i], i))[:8]
    return [(i, "excites" if flat[:, i].sum() >= 0 else "inhibits") for i in top]


# block2_conv1 and block5_conv1 read their inputs across a max-pool.
@pytest.mark.parametrize("layer_name,filters", [("block2_conv1", [0, 77]), ("block3_conv2", [5]),
                                                ("block5_conv1", [3, 500])])
def test_circuits_equal_a_plain_numpy_ranking(kernels, layer_name, filters):
    lyr = VGG16.layer(layer_name)
    prev, nxt = VGG16.layers[lyr.index - 1], VGG16.layers[lyr.index + 1]
    for f in filters:
        ins = circuits.inputs(kernels, lyr, f)
        assert {link.layer for link in ins} == {prev.name}
        assert [(link.filter, link.sign) for link in ins] == numpy_ranking(kernels[lyr.name][0], 2, f)
        outs = circuits.outputs(kernels, VGG16, lyr, f)
        assert {link.layer for link in outs} == {nxt.name}
        assert [(link.filter, link.sign) for link in outs] == numpy_ranking(kernels[nxt.name][0], 3, f)
        assert [link.weight for link in ins] == sorted((link.weight for link in ins), reverse=True)


def test_the_ends_of_the_chain(kernels):
    first, last = VGG16.layers[0], VGG16.layers[-1]
    assert circuits.inputs(kernels, first, 0) == [] and len(circuits.outputs(kernels, VGG16, first, 0)) == 8
    assert circuits.outputs(kernels, VGG16, last, 0) == [] and len(circuits.inputs(kernels, last, 0)) == 8
    colours = np.array(circuits.rgb_kernel(kernels, first, 0, "torch"))
    assert colours.shape == (3, 3, 3) and colours.min() >= 0 and colours.max() <= 255


def test_first_layer_can_fire_is_exact(base, kernels):
    """The bound's image, built from the weights' signs, reaches the bound at an interior pixel;
    a filter decided dead stays at or below zero there."""
    model = network.cut_model(base, "block1_conv1")
    weights, bias = kernels["block1_conv1"]
    lo, hi = (0 - IMAGENET_MEAN) / IMAGENET_STD, (1 - IMAGENET_MEAN) / IMAGENET_STD
    for f in range(0, 64, 9):
        w = weights[:, :, :, f]
        best = bias[f] + np.maximum(w * lo, w * hi).sum()
        image = np.zeros((5, 5, 3), np.float32)
        image[1:4, 1:4] = np.where(w > 0, 255.0, 0.0)  # each pixel at the end its weight favours
        reached = np.asarray(model(preprocess(image[None], "torch")))[0, 2, 2, f]
        assert reached == pytest.approx(best, rel=1e-4, abs=1e-4)
        assert circuits.can_fire(kernels, VGG16.layers[0], f, "torch") == (best > 0)


@pytest.fixture(scope="module")
def block4(base, real_weights):
    r = renderer(base, "block4_conv2", method="fourier", size=64)
    pictures = {f: res.image for f, res in zip((3, 50), r.render([3, 50], 24))}
    probe = Probe(network.cut_model(base, "block4_conv2"), real_weights.preprocess)
    return pictures, probe, probe.photos(photos.scorecard_photos(64))


def test_scorecard_is_sensible_and_favours_its_own_filter(block4):
    """A picture's scorecard, each measure beside the reference measured on the photos."""
    pictures, probe, refs = block4
    own, other = probe.scorecards(np.stack([pictures[3], pictures[3]]), [3, 50], refs)
    assert own is not None and own.best_photo in photos.PHOTOS
    assert own.strength > 1 and 0.3 < own.robustness < 1.5 and 0 <= own.spectral_share < own.spectral_reference
    assert 0 < own.robustness_error < 0.2 and 0 < own.robustness_reference < 2 and own.robustness_reference_error > 0
    assert "beats every photo" in own.verdict and own.seconds > 0
    # The reference is the least robust photo that makes the filter fire, its error that photo's.
    firing = refs.firing(3)
    assert own.robustness_reference == pytest.approx(np.nanmin(refs.kept[firing, 3]), abs=1e-4)
    assert other is None or own.strength > other.strength  # A's picture speaks for A, not for B


# block1_conv1 has nothing below it; block2_conv1 reads across a max-pool.
@pytest.mark.parametrize("layer_name", ["block1_conv1", "block2_conv1"])
def test_own_filter_alone_equals_the_whole_layer(base, real_weights, layer_name):
    """The scorecard computes only each picture's own filter; it must be the whole layer's value."""
    probe = Probe(network.cut_model(base, layer_name), real_weights.preprocess)
    images = np.random.default_rng(0).uniform(0, 255, (6, 40, 40, 3)).astype(np.float32)
    filters = [5, 5, 17, 0, 63, 17]  # repeats, as the moved copies of one picture have
    whole = probe.activations(images)[np.arange(6), filters]
    assert np.allclose(probe.own(images, filters, batch=4), whole, rtol=1e-5, atol=1e-6)


def test_the_render_loops_mean_canvas_counts_what_leaves_the_frame(block4):
    """The default recipes train on a mean-colour canvas: a shrunk or shifted copy loses its
    border, where reflect-padding would mirror the picture back in. The same draws, both
    canvases: mean loses more."""
    pictures, probe, _ = block4
    shift = transform.identity(1)
    shift[0, 2] = 8.0  # each output pixel samples 8 px to its right: the last 8 columns are uncovered
    black = np.zeros((1, 32, 32, 3), np.float32)
    uncovered = np.asarray(transform.apply(black, shift, 0, canvas="mean"))[0, :, -6:]
    assert np.allclose(uncovered, IMAGENET_MEAN_RGB, atol=0.5)
    assert np.asarray(transform.apply(black, shift, 0, canvas="reflect")).max() == 0
    image = np.stack([pictures[3]] * 8).astype(np.float32)
    rows = transform.RandomMoves(64, 0, 8.0, (0.9, 1.1), 10.0, "mean").rows(np.random.default_rng(0), 8)
    mean = np.asarray(transform.apply(image, rows, 0, canvas="mean"))
    reflect = np.asarray(transform.apply(image, rows, 0, canvas="reflect"))
    assert probe.activations(mean)[:, 3].mean() < probe.activations(reflect)[:, 3].mean()

def test_the_scorecards_moves_are_a_photo_editors():
    """Shrinking low-passes (a 1-px checkerboard halved turns grey, where plain bilinear
    sampling aliases it to black or white, and at 0.9 keeps less of it), a shift uncovers a
    grey border, and the draws repeat by seed."""
    checker = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    picture = Image.fromarray(np.stack([checker] * 3, -1))
    for zoom, inside in ((0.5, np.s_[20:44, 20:44]), (0.9, np.s_[12:52, 12:52])):
        shrunk = np.asarray(moves.move(picture, moves.Move(0.0, zoom, 0, 0)), np.float32)
        sampled = transform.identity(1)
        sampled[0, [0, 4]] = 1 / zoom  # the render loop's resampling, the same zoom
        aliased = np.asarray(transform.apply(np.asarray(picture, np.float32)[None], sampled, 0))[0]
        if zoom == 0.5:
            assert np.abs(shrunk[inside] - 127.5).max() < 3
            assert np.abs(aliased[:24, :24] - 127.5).min() > 100
        else:
            assert shrunk[inside].std() < 0.75 * aliased[:40, :40].std()
    shifted = np.asarray(moves.move(Image.new("RGB", (32, 32)), moves.Move(0.0, 1.0, 8, 0)))
    assert (shifted[:, :8] == moves.SCORECARD.border).all() and (shifted[:, 8:] == 0).all()
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    copies = moves.moved_copies(images, 4, seed=1)
    assert copies.shape == (8, 32, 32, 3) and copies.dtype == np.float32
    assert np.array_equal(copies, moves.moved_copies(images, 4, seed=1))
    assert not np.array_equal(copies, moves.moved_copies(images, 4, seed=2))


def test_a_planted_twin_is_found_at_90_degrees(base, real_weights):
    """Filter 9's kernel and bias become filter 4's rotated by 90 degrees: the layer's response
    is then exactly rotation-equivariant, so 9 must answer 4's picture rotated by 90 degrees."""
    model = network.cut_model(base, "block1_conv1")
    kernel, bias = (np.array(w) for w in model.layers[-1].get_weights())
    kernel[:, :, :, 9], bias[9] = np.rot90(kernel[:, :, :, 4], 1, axes=(0, 1)), bias[4]
    model.layers[-1].set_weights([kernel, bias])
    cfg = config.load(overrides={"size": 48})
    r = render.for_filters(model, VGG16.layer("block1_conv1"), settings.ascent(cfg, "block1_conv1"), real_weights.preprocess)
    rendered = [4, 9, 20]
    images = np.stack([res.image for res in r.render(rendered, 64)])
    probe = Probe(model, real_weights.preprocess)
    found = twins.find(probe.activations, images, rendered)
    pair = [t for t in found if (t.filter, t.twin) == (4, 9)]
    assert [t.transform for t in pair] == ["rotated 90°"]
    assert pair[0].ratio == pytest.approx(1.0, abs=1e-3)
    assert all(t.ratio >= twins.THRESHOLD and t.filter != t.twin for t in found)
