"""The render engine's parts, each on its own, and the method registry: a composed objective's
gradient, each parameterisation's round trip, the update rules and moves, the octaves around the
loop, an entry refused for a missing part, and a new method added in two files and drawn through
a real Snakemake run. On a tiny random-weight CNN (conftest.residual_cnn) or no network at all:
seconds each, the Snakemake run about a minute."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, residual_cnn, run
from pipeline import methods
from pipeline.config import settings
from pipeline.methods.method import Method
from pipeline.optvis import backend, objectives, optimise, param, spectrum, transform
from pipeline.optvis.render import Progress


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import keras

    path = residual_cnn(tmp_path_factory.mktemp("tiny") / "tiny_resnet.keras")
    return path, keras.saving.load_model(path, compile=False)


def test_a_composed_objectives_gradient_is_the_sum_of_its_terms():
    """Lucid's algebra carries through the gradient: d(2a - b + 0.5c) = 2 da - db + 0.5 dc."""
    from keras import ops

    x = ops.convert_to_tensor(np.random.default_rng(3).normal(size=(2, 6, 5, 4)).astype(np.float32))
    targets = ops.convert_to_tensor(np.array([1, 3], np.int32))
    mean, div, dream = objectives.channel(), objectives.diversity(), objectives.dream([0, 2])
    combo = 2.0 * mean - div + 0.5 * dream

    def grad(objective):
        return np.asarray(backend.gradient(lambda f: objective(objectives.Forward(f), targets), x)[1])

    np.testing.assert_allclose(grad(combo), 2 * grad(mean) - grad(div) + 0.5 * grad(dream), rtol=1e-4, atol=1e-6)
    assert combo.whole_layer and not mean.whole_layer  # a dream reads the whole layer: no head
    assert "channel mean" in combo.description and "diversity" in combo.description and "dream of 2" in combo.description


@pytest.mark.parametrize("kind", ["fourier", "maco", "decorrelated pixels"])
def test_each_parameterisation_draws_a_photo_back_from_its_own_parameters(kind, tmp_path):
    """Each parameterisation's space holds real photos: the photo's own parameters (its spectrum,
    its phase over its own magnitude, its decorrelated logits) draw the photo again."""
    from pipeline.images import photos

    photo = photos.scorecard_photos(32)[2].astype(np.float32)
    logits = spectrum.pixels_to_basis(photo[None])  # (1, 3, h, w): what comes before the sigmoid
    if kind == "fourier":
        image = param.FourierImage(32, 0.0, 0.0, 0.01)
        spec = np.fft.rfft2(logits * 4.0, axes=(2, 3)) / image.scale  # undo its /4 and its scale
        params = np.stack([spec.real, spec.imag], axis=1).astype(np.float32)
    elif kind == "maco":
        own = np.fft.rfft2(logits, axes=(2, 3))[0]
        image, params = param.MacoImage(np.abs(own)), np.angle(own)[None].astype(np.float32)
    else:
        image, params = param.Decorrelated(param.Pixels(32, 0.0, 0.01)), np.moveaxis(logits, 1, -1).astype(np.float32)
    drawn = np.asarray(image.to_image(params))[0]
    assert np.abs(drawn - photo).max() <= 1.5
    assert image.start([np.random.default_rng(0)]).shape == params.shape  # where it starts: the same space


def test_a_photo_stays_valid_pixels_and_the_pull_holds_it_near():
    """Photo pixels are clipped to [0, 255] after a step; with a tie, the normalised step pulls
    back towards where it started, by ``tie`` of the distance, outside the normalisation."""
    from keras import ops

    start = np.full((1, 4, 4, 3), 250.0, np.float32)
    grad = np.ones_like(start)
    step = optimise.NormalisedStep(step_size=10.0, tie=0.5)
    (anchor,) = step.state(ops.convert_to_tensor(start))
    moved, _ = step.update(ops.convert_to_tensor(start + 20.0), ops.convert_to_tensor(grad), (anchor,), 1, 1)
    np.testing.assert_allclose(np.asarray(moved), 270.0 + 10.0 - 0.5 * 20.0, rtol=1e-5)
    assert np.asarray(param.Photo().project(moved)).max() == 255.0
    assert optimise.NormalisedStep(1.0).state(start) == ()  # no tie, no state


def test_moves_draw_up_front_and_a_roll_is_undone_by_the_gradient():
    """Lucid's moves: each item its own rows, from its own generator; a roll: one shift for the
    batch, and the gradient of a rolled picture is rolled back onto the pixels."""
    from keras import ops

    moves = transform.RandomMoves(32, 0, 4.0, (0.9, 1.1), 10.0, "mean")
    rows = moves.draw([np.random.default_rng(1), np.random.default_rng(2)], 5)
    alone = moves.draw([np.random.default_rng(2)], 5)
    assert rows.shape == (5, 2, 8) and np.array_equal(rows[:, 1], alone[:, 0])
    roll = transform.Roll(3, np.random.default_rng(0))
    shifts = roll.draw([], 4)
    assert shifts.shape == (4, 2) and np.abs(shifts).max() <= 3
    x = ops.convert_to_tensor(np.random.default_rng(4).normal(size=(1, 6, 6, 3)).astype(np.float32))
    weights = np.zeros((1, 6, 6, 3), np.float32)
    weights[0, 1, 2] = 1.0  # the objective reads one pixel of the rolled picture
    _, g = backend.gradient(lambda y: ops.sum(roll.apply(y, np.array([2, 1], np.int32)) * weights, axis=(1, 2, 3)), x)
    assert np.asarray(g)[0, 5, 1].tolist() == [1.0, 1.0, 1.0] and np.asarray(g).sum() == 3.0


def test_octaves_are_a_loop_around_the_render(tiny):
    """A dream grows from its smallest octave to the photo's own size, each octave a render that
    says how far it is; the photo's shape is kept and its filters answer more."""
    from pipeline.model import network
    from pipeline.optvis import dream as dreaming

    _, model = tiny
    spec = settings.Dream("t", "skimage:chelsea", "head", [0, 3], 4, 3, 1.5, 2.0, 60)
    photo = np.random.default_rng(0).integers(0, 255, (40, 60, 3)).astype(np.uint8)
    dreamer = dreaming.Dreamer(network.cut_model(model, "head"), spec, "unit", 8, np.random.default_rng(1))
    log = io.StringIO()
    out = dreamer.dream(photo, log)
    said = log.getvalue().splitlines()
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert [line.split(":")[0] for line in said if line.endswith("s)")] == \
        ["octave 1/3 27x18", "octave 2/3 40x27", "octave 3/3 60x40"]
    assert any("step 4/4: mean activation" in line for line in said)
    assert dreamer.score(out) > dreamer.score(photo)


def test_the_loop_resumes_a_saved_state_to_the_same_picture(tiny, tmp_path):
    """One place resumes the steps: stopped after its first segment, the same render picks up
    from the saved state and ends on the same pixels as one never stopped."""
    from pipeline import config
    from pipeline.model import network
    from pipeline.optvis import render
    from pipeline.optvis.render import Checkpoint

    path, model = tiny
    cfg = config.load(overrides={"model": str(path), "preprocess": "unit", "cache": str(tmp_path / "cache"),
                                 "size": 32})
    renderer = render.for_filters(network.cut_model(model, "res_a"), cfg.network.layer("res_a"),
                                  settings.ascent(cfg, "res_a"), "unit")
    quiet = Progress(log=io.StringIO(), segment=4)
    whole = renderer.render([1, 4], 8, progress=quiet)[0].image
    saved = Checkpoint(tmp_path / "batch.npz", "k")

    class Stop(Exception):
        pass

    def stop_after_first_line(done: int) -> str:
        raise Stop

    with pytest.raises(Stop):
        renderer.render([1, 4], 8, checkpoint=saved, progress=Progress(log=io.StringIO(), segment=4,
                                                                       left=stop_after_first_line))
    assert saved.resumes_from() == 4
    before, said = len(renderer.timings), io.StringIO()
    resumed = renderer.render([1, 4], 8, checkpoint=saved, progress=Progress(log=said, segment=4))[0]
    assert "resuming from step 4/8" in said.getvalue() and len(renderer.timings) == before + 1  # 4 steps, not 8
    assert np.array_equal(resumed.image, whole) and [s for s, _ in resumed.curve] == list(range(1, 9))


class Unfinished(Method):
    name = "unfinished"
    source = "a test"
    summary = "lacks its parts"
    knobs_type = dict
    section = "fourier"


def test_the_registry_refuses_an_entry_that_lacks_a_part():
    with pytest.raises(TypeError) as refused:
        methods.registry(Unfinished())
    message = str(refused.value)
    assert message.count("\n") == 0 and "'unfinished' lacks knobs, parts, steps" in message
    with pytest.raises(TypeError, match="registered twice"):
        methods.registry(methods.get("fourier"), methods.get("fourier"))


NEW_METHOD = '''"""grey: Lucid's raw pixel image from grey, Adam, no moves (a test's method)."""

from dataclasses import dataclass

from . import fourier
from .method import Method, pick


@dataclass(frozen=True)
class Knobs:
    schedule: str
    lr: float


class Grey(Method):
    name = "grey"
    source = "a test"
    summary = "raw pixels from grey, Adam, no moves"
    knobs_type = Knobs
    section = "fourier"

    def knobs(self, cfg, depth):
        return pick(Knobs, vars(fourier.METHOD.knobs(cfg, depth)))

    def steps(self, knobs):
        return 3

    def parts(self, knobs, size, blocks, cache):
        return blocks.Parts(blocks.param.Pixels(size, 127.0, 1.0), blocks.optimise.Adam(knobs.schedule, 4 * knobs.lr))


METHOD = Grey()
'''


def test_a_new_method_is_its_module_and_its_registry_line_and_snakemake_draws_it(tmp_path, tiny):
    """The registry's promise, kept on a copy of the project: a method's module and its line in
    the registry, and a real Snakemake run draws its pictures and pages, the method named on them."""
    tree = tmp_path / "project"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "tests", "docs", "bench"))
    (tree / "pipeline" / "methods" / "grey.py").write_text(NEW_METHOD)
    registry = tree / "pipeline" / "methods" / "__init__.py"
    text = registry.read_text()
    lines = [line for line in text.splitlines() if line.startswith(("from . import", "REGISTRY = registry("))]
    assert len(lines) == 2  # where a method is named: its import and its entry
    text = text.replace("from . import classic,", "from . import grey, classic,")
    text = text.replace("REGISTRY = registry(", "REGISTRY = registry(grey.METHOD, ")
    registry.write_text(text)
    proc = run([sys.executable, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(tmp_path / "run"),
                "--cores", "2", "--config", f"model={tiny[0]}", "preprocess=unit", "method=grey", "layers=[stem]",
                "filters=2", "size=32", "examples=none", "dreams=[]", "compare_classic=False"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    atlas = tmp_path / "run" / "atlas"
    record = json.loads((atlas / "filters" / "stem" / "0001.json").read_text())
    assert record["method"] == "grey" and record["steps"] == 3 and record["settings"]["schedule"] == "cosine"
    assert record["activation"]["final"] > record["activation"]["initial"]
    assert (atlas / "filters" / "stem" / "0001.png").exists() and "grey" in (atlas / "filters" / "stem" / "0001.html").read_text()
