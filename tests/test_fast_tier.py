"""The fast tier: the render loop, its objectives, seeds, diversity and out-of-memory halving on
a tiny random-weight CNN with a residual branch (conftest.residual_cnn), in seconds.

Its pictures mean nothing; what is tested is the machinery, on a graph that is not a chain:
the same seed gives the same pixels, each filter's activation climbs, the collapsed head is
exact after a residual sum, diversity pushes images apart, a batch too big halves and goes on.
The tests that judge pictures stay on the real VGG16.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_collapsed_head_exact, residual_cnn
from pipeline import config
from pipeline.config import settings
from pipeline.model import network
from pipeline.optvis import backend, render


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(the checked config of an atlas of the tiny model, the model with its weights)."""
    import keras

    folder = tmp_path_factory.mktemp("tiny")
    path = residual_cnn(folder / "tiny_resnet.keras")
    cfg = config.load(overrides={"model": str(path), "preprocess": "unit", "cache": str(folder / "cache"),
                                 "outdir": str(folder / "atlas"), "size": 32, "device": "cpu"})
    return cfg, keras.saving.load_model(path, compile=False)


def tiny_renderer(tiny, layer: str, method: str = "fourier", **overrides) -> render.Renderer:
    cfg, base = tiny
    cfg = config.load(overrides={"model": cfg.model, "preprocess": "unit", "cache": cfg.cache,
                                 "size": 32, "method": method, **overrides})
    model = network.cut_model(base, layer)
    return render.for_filters(model, cfg.network.layer(layer), settings.ascent(cfg, layer), "unit")


@pytest.mark.parametrize("method", ["classic", "fourier"])
def test_every_layer_climbs(tiny, method):
    for layer in ("stem", "res_a", "res_b", "head"):
        results = tiny_renderer(tiny, layer, method).render([0, 5], steps=12)
        assert all(r.final > r.initial for r in results), (layer, [(r.initial, r.final) for r in results])


def test_same_seed_same_images_whatever_the_batch(tiny):
    r = tiny_renderer(tiny, "res_b")
    alone = r.render([3], steps=6)[0].image
    np.testing.assert_array_equal(alone, r.render([3], steps=6)[0].image)
    in_batch = r.render([1, 3, 6], steps=6)[1].image
    assert np.abs(alone.astype(int) - in_batch.astype(int)).max() <= 2  # batched convs may round apart
    other = tiny_renderer(tiny, "res_b", seed=1).render([3], steps=6)[0].image
    assert np.abs(alone.astype(int) - other.astype(int)).mean() > 1


@pytest.mark.parametrize("layer", ["res_b", "head"])
def test_the_collapsed_head_is_exact_after_a_residual_sum(tiny, layer):
    """The shortcut the step loop takes equals the whole layer, objective and gradient, where
    the conv reads a sum of branches (``head``) and inside the branch (``res_b``)."""
    assert_collapsed_head_exact(network.cut_model(tiny[1], layer), (2, 37, 30, 3), [0, 5], "unit")


def test_diversity_pushes_images_apart(tiny):
    spread = {}
    for weight in (0.0, 10.0):
        (res,) = tiny_renderer(tiny, "head", diversity=3, diversity_weight=weight).render([2], steps=24)
        images = np.stack([res.image] + res.diverse).astype(float)
        spread[weight] = np.mean([np.abs(a - b).mean() for i, a in enumerate(images) for b in images[i + 1:]])
    assert spread[10.0] > spread[0.0]


def test_out_of_memory_halves_the_batch_and_goes_on(tiny, capsys):
    """Room for two filters at a time: the job says so, halves, and renders all of them, each as
    it would have been alone."""
    from pipeline.jobs.ascend import Ascend, Render
    from pipeline.output.record import FilterRecord

    cfg, _ = tiny
    real = tiny_renderer(tiny, "res_a", "classic")

    class Tight:
        def render(self, batch, steps, **resume_and_progress):
            if len(batch) > 2:
                raise backend.OutOfMemory(None, None, "OOM when allocating tensor")
            return real.render(batch, steps, **resume_and_progress)

        def measure(self, images, targets):
            return real.measure(images, targets)

    job = Ascend(settings.ascent_job(replace(cfg, method="classic", compare_classic=False), "res_a", [0, 1, 2, 3, 4]))
    with ThreadPoolExecutor(1) as writer:
        job.batches.run(Render("main", job.job.main, Tight()), [[0, 1, 2, 3, 4]], writer)
    err = capsys.readouterr().err
    assert "out of memory with 5 filters; halving the batch to 2" in err
    assert "out of memory with 3 filters; halving the batch to 1" in err
    out = Path(cfg.outdir) / "filters" / "res_a"
    for f in range(5):
        rec = FilterRecord.read(out / f"{f:04d}.json")
        assert rec.filter == f and rec.activation.final > rec.activation.initial
    alone = tiny_renderer(tiny, "res_a", "classic").render([4], 20)[0].image
    with __import__("PIL").Image.open(out / "0004.png") as im:
        assert np.abs(np.asarray(im).astype(int) - alone.astype(int)).max() <= 2
