"""Your own network: a user's .keras model with a residual branch through every job of a real
Snakemake run, AlexNet on its real ImageNet weights, and one line for each way a model can be
wrong, before any job.

The residual model has random weights: its pictures mean nothing, but every job must run on
it, and what does not apply to it (circuits across the residual sum) must say so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, residual_cnn, run

# Small but whole: every job of the pipeline, examples, trust and caricatures included, on the
# layers around the residual sum (res_b, inside the branch, is left out: it adds only time).
SMALL = ["layers=[stem,res_a,head]", "filters=3", "steps=8", "size=48", "preprocess=unit", "caricatures=True",
         "caricatures_steps=4", "examples_top=4"]


def snakemake(workdir: Path, *config: str, dry: bool = False):
    return run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", *(["-n"] if dry else []), "--config", *config])


@pytest.fixture(scope="module")
def residual(tmp_path_factory) -> Path:
    return residual_cnn(tmp_path_factory.mktemp("model") / "tiny_resnet.keras")


@pytest.fixture(scope="module")
def own_atlas(tmp_path_factory, residual, real_weights):
    workdir = tmp_path_factory.mktemp("own")
    proc = snakemake(workdir, f"model={residual}", *SMALL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas", proc.stdout + proc.stderr


def test_every_job_runs_on_a_residual_keras_model(own_atlas):
    out, said = own_atlas
    assert "estimate: 3 ascent jobs" in said
    for layer in ("stem", "res_a", "head"):
        for f in range(3):
            record = json.loads((out / "filters" / layer / f"{f:04d}.json").read_text())
            assert record["weights"] == "file:tiny_resnet.keras" and record["preprocess"] == "unit"
            assert (out / "filters" / layer / f"{f:04d}.html").exists()
            assert (out / "examples" / layer / f"{f:04d}.json").exists()
            assert (out / "trust" / layer / f"{f:04d}.json").exists()
            assert (out / "caricatures" / layer / f"{f:04d}.json").exists()
        assert (out / "layers" / f"{layer}.html").exists() and (out / "grids" / f"{layer}.png").exists()
    assert (out / "dreams" / "cat.png").exists()  # the default dream, on the deepest conv
    index = (out / "index.html").read_text()
    assert "tiny_resnet Atlas" in index and "tiny_resnet's 4 convolutional layers" in index
    assert (out / "layers" / "res_b.html").exists() is False  # not selected: listed, not linked
    assert ">res_b<" in index


def test_circuits_follow_the_chain_and_say_where_they_cannot(own_atlas):
    out, _ = own_atlas
    record = lambda layer: json.loads((out / "filters" / layer / "0000.json").read_text())  # noqa: E731
    assert {link["layer"] for link in record("res_a")["inputs"]} == {"stem"}
    assert {link["layer"] for link in record("res_a")["outputs"]} == {"res_b"}
    assert {link["layer"] for link in record("stem")["outputs"]} == {"res_a"}  # the sum is not followed
    assert record("head")["inputs"] == [] and record("head")["outputs"] == []
    assert record("stem")["kernel"] is not None and record("res_a")["kernel"] is None  # stem reads the pixels
    page = (out / "filters" / "head" / "0000.html").read_text()
    assert "Not listed: this layer reads another layer's output through a merge" in page
    assert "Not listed" not in (out / "filters" / "res_a" / "0000.html").read_text()


def test_a_rerun_finds_nothing_to_do(own_atlas, residual):
    out, _ = own_atlas
    proc = snakemake(out.parent, f"model={residual}", *SMALL, dry=True)
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-2000:]


@pytest.mark.parametrize("make,expect", [
    ("text", "is not a Keras model Keras can load"),
    ("dense", "has no convolution the atlas can draw (Conv2D, DepthwiseConv2D or SeparableConv2D"),
    ("vector", "takes input (None, 10); expected one input of shape (height, width, bands)"),
    ("grey", "preprocess = 'caffe' is not allowed with model = "),
])
def test_a_bad_model_is_one_line_before_any_job(tmp_path, make, expect):
    import keras

    path = tmp_path / f"{make}.keras"
    if make == "text":
        path.write_text("not a model")
    elif make == "dense":
        inputs = keras.Input((16, 16, 3))
        keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs))).save(path)
    elif make == "vector":
        inputs = keras.Input((10,))
        keras.Model(inputs, keras.layers.Dense(4)(inputs)).save(path)
    else:
        inputs = keras.Input((32, 32, 1))
        keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs)).save(path)
    # A grey model with Caffe's scaling (BGR, ImageNet's mean colour subtracted): it has no colours.
    preprocess = "caffe" if make == "grey" else "tf"
    proc = snakemake(tmp_path, f"model={path}", f"preprocess={preprocess}", f"cache={tmp_path / 'cache'}", dry=True)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0 and len(errors) == 1 and expect in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "atlas").exists()
    assert "File not found" not in errors[0]  # Keras' words for a file that is there but is no model


def test_a_fixed_input_size_is_the_models(tmp_path):
    path = residual_cnn(tmp_path / "fixed.keras", fixed=64)
    proc = snakemake(tmp_path, f"model={path}", "preprocess=tf", "layers=[head]", "filters=2", dry=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # The README's command as typed: the convs take any size, so the default dream grows on its photo.
    assert "rule dream" in proc.stdout and "note:" not in proc.stderr
    from pipeline import config

    cfg = config.load(None, {"model": str(path), "preprocess": "tf", "dreams": [], "size": 128})
    assert cfg.size == 64 and cfg.network.input_size == 64


def test_a_command_by_hand_takes_the_model(tmp_path, real_weights):
    proc = run([sys.executable, "-m", "pipeline", "ascend", "--model", "alexnet", "--layer", "conv3", "--filters",
                "0:2", "--steps", "4", "--size", "64", "--outdir", str(tmp_path / "atlas")])
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "atlas" / "filters" / "conv3" / "0001.json").read_text())
    assert record["weights"].startswith("AlexNet torchvision-imagenet-v1") and record["size"] == 64
    proc = run([sys.executable, "-m", "pipeline", "ascend", "--model", "alexnet", "--layer", "conv6"])
    assert proc.returncode == 2 and "'conv6' is not a conv layer of AlexNet; did you mean 'conv5'?" in proc.stderr


# AlexNet on torchvision's ImageNet weights, at moderate settings (the default recipe at 128 px,
# without the classic comparison): 6 filters drawn at random from every layer (each has 64 or more).
ALEXNET_FILTERS = sorted(np.random.default_rng(30).choice(64, 6, replace=False).tolist())


def test_alexnet_pictures_beat_every_photo(tmp_path, real_weights):
    proc = snakemake(tmp_path, "model=alexnet", f"filters={ALEXNET_FILTERS}".replace(" ", ""),
                     "compare_classic=False", "dreams=[]", "examples=none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    strengths = {}
    for layer in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        for f in ALEXNET_FILTERS:
            record = json.loads((tmp_path / "atlas" / "filters" / layer / f"{f:04d}.json").read_text())
            strengths[layer, f] = record["scorecard"]["strength"]
    beat = sum(s > 1 for s in strengths.values()) / len(strengths)
    print(f"AlexNet: {beat:.0%} of {len(strengths)} pictures beat every photo; weakest "
          f"{sorted(strengths.items(), key=lambda kv: kv[1])[:3]}")
    assert beat >= 0.8, strengths
