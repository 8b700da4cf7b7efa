"""The network a user brings: the architectures that ship with Keras (built without weights, so
nothing is downloaded) each described and rehearsed by the parse-time check, every conv cut out
as the jobs cut it; a small model holding what those architectures hold drawn end to end
through Snakemake; and the models the atlas cannot draw refused in one line before any job.

Drawing each Keras architecture end to end takes minutes apiece: `python bench/zoo.py` does it
and writes docs/running.md's table. What a job does with a model beyond the check's rehearsal
(cutting every conv in float32 and bfloat16 and running it) is the same code for all of them,
which the small model's Snakemake run covers.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, banded_cnn, run, zoo_cnn
from pipeline.images.bands import Bands

# name: (builder, convs the atlas lists, of which depthwise/separable/grouped, the smallest side)
KERAS_ZOO = {
    "ResNet50": (lambda a: a.ResNet50, 53, {}, 1),
    "MobileNetV2": (lambda a: a.MobileNetV2, 52, {"depthwise": 17}, 96),
    "DenseNet121": (lambda a: a.DenseNet121, 120, {}, 29),
    "EfficientNetB0": (lambda a: a.EfficientNetB0, 49, {"depthwise": 16}, 32),
    "InceptionV3": (lambda a: a.InceptionV3, 94, {}, 75),
    "Xception": (lambda a: a.Xception, 40, {"separable": 34}, 7),
    "ConvNeXtTiny": (lambda a: a.ConvNeXtTiny, 22, {"grouped": 18}, 32),
}


@pytest.mark.parametrize("name", KERAS_ZOO)
def test_every_keras_architecture_is_described_and_cut(tmp_path, name):
    import keras

    from pipeline.model import describe

    build, convs, kinds, side = KERAS_ZOO[name]
    # MobileNetV2 at the fixed size its head allows (96 px); the others at any size.
    shape = (96, 96, 3) if name == "MobileNetV2" else (None, None, 3)
    path = tmp_path / f"{name}.keras"
    build(keras.applications)(weights=None, include_top=False, input_shape=shape).save(path)
    model = keras.saving.load_model(path, compile=False)
    net = describe.describe(model, name, str(path), None)  # rehearses every conv's cut, float32 and bfloat16
    assert len(net.layers) == convs and net.min_size == side
    assert Counter(lyr.kind for lyr in net.layers if lyr.kind != "conv") == Counter(kinds)
    assert all(lyr.reads is None for lyr in net.layers if lyr.kind != "conv")  # no kernel slice to follow
    assert net.scales_input == (name in ("EfficientNetB0", "ConvNeXtTiny"))  # their own Rescaling, Normalization
    deepest = net.layers[-1]
    assert deepest.stride == 32 and deepest.receptive_field > 400  # the whole depth, no branch cut off
    if name == "ConvNeXtTiny":  # its stem is a nested Sequential: opened, its conv named through it
        assert net.layers[0].name == "convnext_tiny_stem.convnext_tiny_stem_conv"


def snakemake(workdir: Path, *config: str, dry: bool = False):
    return run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", *(["-n"] if dry else []), "--config", *config])


def test_a_model_with_what_the_zoo_holds_draws_its_atlas(tmp_path, real_weights):
    path = zoo_cnn(tmp_path / "tiny_zoo.keras")
    # The README's command with the model's own scaling (its Rescaling layer: preprocess=raw),
    # at tiny settings: every job, the default dream, examples and trust included.
    # Two layers: the nested stem's conv and the depthwise conv; the dream runs on the last conv,
    # which reads through the multiply, the separable conv, the concatenation and the Dense on
    # the map (the check has cut every conv already).
    layers = ["stem.conv", "depthwise_conv2d"]
    proc = snakemake(tmp_path, f"model={path}", "preprocess=raw", f"layers=[{','.join(layers)}]", "filters=2",
                     "steps=4", "compare_classic=False", "caricatures=True", "caricatures_steps=2", "examples_top=2",
                     "dreams=[{name: cat, photo: 'skimage:chelsea', layer: last, steps: 2, octaves: 1}]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The first line counts every job it will run, not only the ascents.
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("estimate: ")]
    assert all(kind in line.split("job time: ")[1] for kind in ("ascents", "trust", "examples", "caricatures",
                                                               "dreams", "twins")), line
    out = tmp_path / "atlas"
    index = (out / "index.html").read_text()
    for layer in layers:
        record = json.loads((out / "filters" / layer / "0001.json").read_text())
        assert record["size"] == 48  # the model's own input size
        for part in ("examples", "trust", "caricatures"):
            assert (out / part / layer / "0001.json").exists(), (part, layer)
        assert f">{layer}<" in index
    # A depthwise conv's page says why no kernel slice links it to another filter.
    page = (out / "filters" / "depthwise_conv2d" / "0000.html").read_text()
    assert "convolves each input channel on its own" in page
    assert (out / "dreams" / "cat.png").exists()
    assert all(f">{name}<" in index for name in ("separable", "branch", "last"))  # listed, not selected
    assert "stem.conv" in (out / "filters" / "stem.conv" / "0000.html").read_text()  # named on its page


@pytest.mark.parametrize("bands,said", [(1, ["preprocess=unit"]),
                                        (4, ["preprocess=tf", "photo_bands=rgb+luminance", "method=maco",
                                             "negative=True", "diversity=2", "compare_classic=True"])])
def test_a_model_of_other_bands_draws_its_atlas(tmp_path, real_weights, bands, said):
    """A digit classifier's one grey band at its fixed 32 px, and RGB plus a fourth band at any
    size (MaCo's transparency, a negative and a diverse picture, the classic comparison): every
    job, through the README's command with what the user must say."""
    path = banded_cnn(tmp_path / f"bands{bands}.keras", bands, 32 if bands == 1 else None)
    proc = snakemake(tmp_path, f"model={path}", *said, "layers=[conv2]", "filters=2", "steps=4", "size=32",
                     "caricatures=True", "caricatures_steps=2", "examples_top=2",
                     "dreams=[{name: cat, photo: 'skimage:chelsea', layer: conv2, steps: 2, octaves: 1}]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, shown = tmp_path / "atlas", Bands.of(bands, "auto" if bands == 1 else "rgb+luminance")
    pictures = ["filters/conv2/0001.png", "caricatures/conv2/0001.png", "caricatures/conv2/0001.photo.png",
                "dreams/cat.png"] + (["filters/conv2/0001.alpha.png", "filters/conv2/0001.negative.png",
                                      "filters/conv2/0001.div1.png", "classic/conv2/0001.png"] if bands == 4 else [])
    for name in pictures:
        with Image.open(out / name) as im:  # grey; or colour with the fourth band as a grey panel beside
            assert im.mode == {1: "L", 4: "RGBA" if "alpha" in name else "RGB"}[bands], name
            if "dreams" not in name:
                assert im.size == (32 * shown.panels, 32), name
    picture = shown.unshown(np.asarray(Image.open(out / "filters/conv2/0001.png").convert("RGB")))
    assert picture.shape == (32, 32, bands) and picture.std() > 0
    trust = json.loads((out / "trust" / "conv2" / "0001.json").read_text())
    assert trust["synthetic"] is not None and trust["path"] is not None  # the pictures were measured in their bands
    page = (out / "filters" / "conv2" / "0001.html").read_text()
    assert shown.words().split(":")[0] in page and f'width="{32 * shown.panels}" height="32"' in page
    examples = json.loads((out / "examples" / "conv2" / "0001.json").read_text())
    assert len(examples["examples"]) == 2


@pytest.mark.parametrize("make,expect", [
    ("rgbn", "photo_bands = 'auto' is not allowed with model = "),
    ("reshaped", "its convolutions can be reached only at its own input size (16 px"),
])
def test_what_cannot_be_drawn_is_one_line_before_any_job(tmp_path, make, expect):
    import keras

    layers = keras.layers
    path = tmp_path / f"{make}.keras"
    if make == "rgbn":  # RGB and a fourth band: how an RGB photo becomes four bands must be said
        banded_cnn(path, 4, None)
    else:  # a Reshape between two convs that fixes the map the second reads
        inputs = keras.Input((16, 16, 3))
        outputs = layers.Conv2D(4, 3)(layers.Reshape((16, 16, 4))(layers.Conv2D(4, 3, padding="same")(inputs)))
        keras.Model(inputs, outputs).save(path)
    proc = snakemake(tmp_path, f"model={path}", "preprocess=unit", f"cache={tmp_path / 'cache'}", dry=True)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0 and len(errors) == 1 and expect in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "atlas").exists()
