"""Bad input: one line naming the setting, the value and what is allowed; nothing written."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO, last_line, run
from pipeline import config
from pipeline.config import settings
from pipeline.errors import AtlasError

BAD = [
    ({"layers": ["block9_conv1"]}, "layers", "block9_conv1"),
    ({"filters": {"block1_conv1": [64]}, "layers": ["block1_conv1"]}, "filters.block1_conv1", "64"),
    ({"filters": [3, 600]}, "filters", "600"),
    ({"steps": 0}, "steps", "0"),
    ({"size": 16}, "size", "16"),
    ({"method": "deepdream"}, "method", "deepdream"),
    ({"weights": "imagenet21k"}, "weights", "imagenet21k"),
    ({"weights": "/nowhere/mine.weights.h5"}, "weights", "/nowhere/mine.weights.h5"),
    ({"fourier": {"scale": [1.2, 0.8]}}, "fourier.scale", "1.2"),
    ({"maco": {"spectrum": "imagenet"}}, "maco.spectrum", "imagenet"),
    ({"method": "maco", "maco": {"spectrum": "examples"}}, "maco.spectrum", "examples"),
    ({"caricatures": True, "examples": "none"}, "caricatures", "True"),
    ({"caricatures_tie": 2}, "caricatures_tie", "2"),
    ({"trust_similarity": "dreamsim"}, "trust_similarity", "dreamsim"),
    ({"trust_similarity": "/nowhere/embed.keras"}, "trust_similarity", "/nowhere/embed.keras"),
    ({"negative": "maybe"}, "negative", "maybe"),
    ({"colour": "red"}, "colour", "colour"),
]


@pytest.mark.parametrize("override,setting,value", BAD)
def test_bad_settings_are_one_line(override, setting, value):
    with pytest.raises(AtlasError) as info:
        config.load(overrides=override)
    message = str(info.value)
    assert "\n" not in message
    assert setting in message and value in message
    assert any(word in message for word in ("expected", "allowed"))


def test_defaults_are_the_whole_network():
    cfg = config.load()
    sel = cfg.filters
    assert len(sel) == 13 and sum(map(len, sel.values())) == 4224
    assert cfg.method == "fourier" and cfg.steps == "auto"  # each layer's schedule's (methods/fourier.py)
    assert sum(len(c) for c in settings.chunks(cfg).values()) == 4224


def test_filters_forms():
    cfg = config.load(overrides={"layers": ["block1_conv1", "block5_conv3"], "filters": 100})
    assert [len(v) for v in cfg.filters.values()] == [64, 100]
    cfg = config.load(overrides={"layers": ["block5_conv3", "block1_conv1"],
                                 "filters": {"block5_conv3": [7, 3], "block1_conv1": 2}})
    assert cfg.filters == {"block1_conv1": [0, 1], "block5_conv3": [3, 7]}
    # One list for every layer: each takes the indices it has; a layer with none is left out.
    cfg = config.load(overrides={"layers": ["block1_conv1", "block5_conv3"], "filters": [3, 100]})
    assert cfg.filters == {"block1_conv1": [3], "block5_conv3": [3, 100]}
    cfg = config.load(overrides={"layers": ["block1_conv1", "block5_conv3"], "filters": [100]})
    assert cfg.filters == {"block5_conv3": [100]}
    with pytest.raises(AtlasError, match="filters = 600 is out of range for every selected layer; expected 0 to 511"):
        config.load(overrides={"filters": [3, 600]})


def test_malformed_yaml_names_the_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers: [block1_conv1\nsteps: 3\n")
    with pytest.raises(AtlasError, match=r"not valid YAML at line \d+, column \d+"):
        config.load(bad)


def test_cli_bad_layer_one_line_and_nothing_written(tmp_path):
    out = tmp_path / "out"
    proc = run([sys.executable, "-m", "pipeline", "ascend", "--layer", "block6_conv1",
                "--filters", "0:2", "--outdir", str(out)])
    assert proc.returncode == 2
    assert last_line(proc.stderr) == ("error: config: layers = 'block6_conv1' is not a conv layer of VGG16; did you "
                                      "mean 'block5_conv1'? expected one of block1_conv1 ... block5_conv3 (13 layers)")
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_filter_out_of_range(tmp_path):
    proc = run([sys.executable, "-m", "pipeline", "ascend", "--layer", "block1_conv1",
                "--filters", "60:70", "--outdir", str(tmp_path / "o")])
    assert proc.returncode == 2
    assert "64 is out of range for block1_conv1; expected 0 to 63" in last_line(proc.stderr)


@pytest.mark.parametrize("arg,expect", [
    ("steps=0", "steps = 0"),
    ("size=8", "size = 8"),
    ("method=lucid", "method = 'lucid'"),
    ("weights=vgg-from-the-moon", "vgg-from-the-moon"),
    ("layers=[block1_conv1,nope]", "'nope'"),
    ("model=resnet", "'resnet' is not allowed"),
])
def test_snakemake_rejects_bad_config_before_any_job(tmp_path, arg, expect):
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "--cores", "1", "--config", arg, "outdir=site"])
    assert proc.returncode != 0
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and expect in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "site").exists()


def test_layer_names_are_checked_against_the_model_with_the_nearest_name():
    """Layer names are the model's: checked against its description, with did-you-mean, for
    ``layers``, ``filters`` and a dream's layer; 'last' is the deepest conv."""
    with pytest.raises(AtlasError, match=r"^config: filters = 'block4_conv9' is not a conv layer of VGG16; "
                                         r"did you mean 'block4_conv3'\?"):
        config.load(None, {"layers": ["block4_conv1"], "filters": {"block4_conv9": 3}})
    with pytest.raises(AtlasError, match=r"^config: dreams\[0\].layer = 'conv9' is not a conv layer of AlexNet; "
                                         r"did you mean 'conv5'\? expected one of conv1 ... conv5 \(5 layers\)$"):
        config.load(None, {"model": "alexnet", "dreams": [{"name": "d", "photo": "skimage:chelsea", "layer": "conv9"}]})
    cfg = config.load(None, {"model": "alexnet"})
    assert cfg.layers == ("conv1", "conv2", "conv3", "conv4", "conv5") and cfg.dreams[0].layer == "conv5"
    assert cfg.title == "AlexNet Atlas" and config.load().title == "VGG16 Atlas"


def test_config_yaml_holds_the_schemas_defaults_and_nothing_else():
    """The schema is the one home of every default; config.yaml shows them and must not drift."""
    from pipeline.config.check import schema

    shown, props = config.read_yaml(config.DEFAULT_FILE), schema()["properties"]
    assert set(shown) == set(props)
    for key, value in shown.items():
        if isinstance(value, dict):
            assert value == {k: p["default"] for k, p in props[key]["properties"].items()}, key
        else:
            assert value == props[key]["default"], key


def test_the_checked_config_is_one_typed_value_with_a_field_for_each_setting():
    """Every setting of the schema is a field of the checked config, or a method's section; the
    value is frozen, and the network is described in it once."""
    import dataclasses

    from pipeline import methods
    from pipeline.config.check import schema
    from pipeline.config.checked import Config

    fields = {f.name for f in dataclasses.fields(Config)} - {"sections", "network", "notes"}
    assert fields | set(methods.sections()) == set(schema()["properties"])
    cfg = config.load(overrides={"filters": 2, "layers": ["block1_conv1"]})
    assert cfg.filters == {"block1_conv1": [0, 1]} and cfg.section("fourier")["schedule"] == "auto"
    assert cfg.network.layer("block1_conv1").filters == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.size = 64
    with pytest.raises(TypeError):
        cfg.section("fourier")["cutoff"] = 0.3


def test_the_settings_reference_is_written_from_the_schema_and_the_recipes():
    """docs/configuration.md is generated: a setting, a default or a recipe number changed in
    the code and not in the page fails here (rewrite it: python -m pipeline.config.reference)."""
    from pipeline.config import reference
    from pipeline.methods import fourier as recipes

    page = (REPO / "docs" / "configuration.md").read_text()
    assert page == reference.markdown(), "docs/configuration.md is stale: python -m pipeline.config.reference"
    for name, values in recipes.RECIPES.items():
        assert f"| `{name}` | " + " | ".join(str(v) for v in values.values()) + " |" in page
    assert "docs/configuration.md" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("command", ["pages", "grid"])
def test_pages_and_grids_before_rendering_say_so(tmp_path, command):
    proc = run([sys.executable, "-m", "pipeline", command, "--layer", "block1_conv1",
                "--outdir", str(tmp_path / "a")])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no filter of block1_conv1 is rendered in" in last_line(proc.stderr)
    assert "render some first (python -m pipeline ascend --layer block1_conv1" in last_line(proc.stderr)


def test_precision_auto_follows_the_processors_own_bfloat16():
    """Simulated both ways: a CPU that lists AVX512_BF16 (or AMX, or Arm's BF16) gets bfloat16
    under auto, one without gets float32; a GPU decides by its tensor cores (the job asks)."""
    from pipeline.config import estimate
    from pipeline.jobs import device

    with_flag = "processor: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile\n"
    without = "processor: 0\nflags\t\t: fpu sse avx2 avx512f\n"
    arm = "processor: 0\nFeatures\t: fp asimd sve bf16\n"
    assert device.cpu_bfloat16(with_flag) == "avx512_bf16" and device.cpu_bfloat16(arm) == "bf16"
    assert device.cpu_bfloat16(without) is None and device.cpu_bfloat16("") is None
    assert estimate.planned_precision("auto", 0, "avx512_bf16") == "bfloat16"
    assert estimate.planned_precision("auto", 0, None) == "float32"
    assert estimate.planned_precision("float32", 0, "avx512_bf16") == "float32"


def test_preflight_resolves_auto_on_the_machine_it_runs_on(monkeypatch, real_weights):
    from pipeline.jobs import common, device

    pre = common.Preflight("CPU", config.load().network, real_weights, 0.0)
    monkeypatch.setattr(device, "cpu_bfloat16", lambda: "avx512_bf16")
    assert pre.precision("auto") == ("bfloat16", "auto: this CPU computes bfloat16 natively (avx512_bf16)")
    monkeypatch.setattr(device, "cpu_bfloat16", lambda: None)
    assert pre.precision("auto")[0] == "float32" and pre.precision("bfloat16") == ("bfloat16", "as set")


def test_auto_is_bfloat16_in_every_block_where_the_processor_computes_it(monkeypatch, real_weights):
    """The guard held in every block on two draws (docs/speed.md): the ascent job of every
    VGG16 layer resolves auto to bfloat16 on a CPU with it, its classic comparison too (it held
    on two draws of its own), and the estimate plans bfloat16's measured speed-up (above 1) at
    every depth; without it, float32."""
    from pipeline.config import estimate, settings
    from pipeline.jobs import common, device
    from pipeline.jobs.ascend import resolved

    cfg = config.load()
    pre = common.Preflight("CPU", cfg.network, real_weights, 0.0)
    for flag, want in (("avx512_bf16", "bfloat16"), (None, "float32")):
        monkeypatch.setattr(device, "cpu_bfloat16", lambda flag=flag: flag)
        jobs = [resolved(settings.ascent_job(cfg, lyr.name, [0]), pre) for lyr in cfg.network.layers]
        chosen = {job.main.precision for job in jobs} | {job.classic.precision for job in jobs}
        assert chosen == {want}, (flag, chosen)
    bf16, f32 = (estimate.Speed("tensorflow", precision) for precision in ("bfloat16", "float32"))
    assert all(bf16.at(d) > 1.1 * f32.at(d) for d in map(cfg.network.depth, (lyr.name for lyr in cfg.network.layers)))


def test_the_estimate_uses_the_rate_of_the_backend_and_precision_in_use():
    """JAX's CPU build measured 3.1-4.3 times slower than TensorFlow (docs/speed.md), bfloat16
    faster where the CPU computes it: the estimate says so."""
    from pipeline.config import estimate

    cfg = config.load(overrides={"layers": ["block3_conv1"], "compare_classic": False})
    tf32, jax32 = (estimate.device(0, 2, None, backend, "float32") for backend in ("tensorflow", "jax"))
    bf16 = estimate.device(0, 2, None, "tensorflow", "bfloat16")
    seconds = {name: estimate.job_seconds(cfg, "block3_conv1", 256, dev) for name, dev in
               (("tf32", tf32), ("jax32", jax32), ("bf16", bf16))}
    assert 3.0 < (seconds["jax32"] - 9.3) / (seconds["tf32"] - 9.3) < 4.5
    assert seconds["bf16"] < seconds["tf32"] / 1.3
    assert "float32, JAX" in jax32.basis and "bfloat16" in bf16.basis


def test_the_estimate_counts_the_twins_passes_the_twins_search_makes():
    """A twins job measures each picture as drawn and turned each way (``measure/twins.py``):
    the estimate counts as many passes, and a deeper layer costs more."""
    from pipeline.config import estimate
    from pipeline.measure import twins

    assert estimate.TWIN_PASSES == 1 + len(twins.TRANSFORMS)
    cfg, dev = config.load(), estimate.device(0, 2)
    shallow, deep = (estimate.twins_seconds(cfg, layer, 512, dev) for layer in ("block1_conv2", "block5_conv3"))
    assert estimate.START < shallow < deep


def test_an_atlas_made_before_the_model_setting_reruns_nothing_for_it():
    """VGG16 jobs' settings JSON is what it was before ``model`` existed (so Snakemake reruns
    no job of an existing atlas for it); another model is in it, and both read back."""
    from pipeline.config import settings

    vgg = settings.ascent_job(config.load(), "block4_conv2", [0, 1])
    assert '"model"' not in settings.to_json(vgg)
    assert settings.from_json(settings.AscentJob, settings.to_json(vgg)) == vgg
    alex = settings.ascent_job(config.load(None, {"model": "alexnet"}), "conv3", [0, 1])
    assert '"model":"alexnet"' in settings.to_json(alex)
    assert settings.from_json(settings.AscentJob, settings.to_json(alex)).main.weights.model == "alexnet"
