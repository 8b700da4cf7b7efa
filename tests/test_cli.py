"""Settings as users type them on Snakemake's command line, each through a real `snakemake -n`.

Snakemake's --config hands every value inside a list or a mapping over as a string and reads
only True/False as booleans; the workflow must read them as what the schema expects.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys

import pytest

from conftest import REPO, residual_cnn, run
from pipeline import config


def dry_run(workdir, *config):
    """`snakemake -n -p` with these --config values: (exit code, shell commands, stderr)."""
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "-n", "-p", "--cores", "2", "--config", "dreams=[]", *config])
    return proc.returncode, [l for l in proc.stdout.splitlines() if "-m pipeline" in l], proc.stderr


def settings_of(commands: list[str], command: str, layer: str | None = None) -> dict:
    """The --settings JSON a job of ``command`` (for ``layer``) would be given; ``_filters``, an
    ascent job's filters as a command line writes them."""
    from pipeline.config.selection import ranges

    for line in commands:
        args = shlex.split(line.split("; ")[-1])
        if args[args.index("pipeline") + 1] != command:
            continue
        given = json.loads(args[args.index("--settings") + 1])
        at = given.get("layer") or (args[args.index("--layer") + 1] if "--layer" in args else None)
        if layer and at != layer:
            continue
        return {**given, "_filters": ranges(given["filters"]) if command == "ascend" else None}
    raise AssertionError(f"no {command} job for {layer} in {commands}")


DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def documented(prefix: str) -> list[tuple[str, str]]:
    """(page, command line) of every command the README and docs/ show in a code block."""
    found = []
    for page in DOCS:
        in_code = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
            elif in_code and line.startswith(prefix):
                found.append((page.name, line.split("  #")[0].strip()))
    return found


@pytest.mark.parametrize("page,command", [c for c in documented("snakemake ") if "--profile" not in c[1]])
def test_every_snakemake_command_the_docs_show_is_a_valid_run(tmp_path, page, command):
    """Each is dry-run exactly as written (the SLURM profile's runs for real in test_slurm.py);
    a .keras model it names is conftest's residual CNN, saved where the command says."""
    for arg in shlex.split(command):
        if arg.startswith("model=") and arg.endswith(".keras"):
            (tmp_path / arg[6:]).parent.mkdir(parents=True, exist_ok=True)
            residual_cnn(tmp_path / arg[6:])
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                *shlex.split(command)[1:]])
    assert proc.returncode == 0, f"{page}: {command}\n{proc.stderr[-2000:]}"
    assert "ascend" in proc.stdout


@pytest.mark.parametrize("page,command", documented("python -m pipeline "))
def test_every_pipeline_command_the_docs_show_parses(page, command):
    """Their flags exist (the jobs themselves run in the tests of each stage)."""
    from pipeline.__main__ import _parser

    args = _parser().parse_args(shlex.split(command)[3:])
    assert args.command == shlex.split(command)[3]


def test_a_list_of_filters(tmp_path):
    """As the README writes it: these filters of every layer, where the layer has them."""
    rc, cmds, err = dry_run(tmp_path, "filters=[0,7,100]")
    assert rc == 0, err
    assert settings_of(cmds, "ascend", "block5_conv3")["_filters"] == "0,7,100"
    assert settings_of(cmds, "grid", "block5_conv3")["filters"] == [0, 7, 100]
    assert settings_of(cmds, "grid", "block1_conv1")["filters"] == [0, 7]  # 64 filters: no 100
    assert len([c for c in cmds if " pages " in c]) == 13


def test_a_list_of_layers(tmp_path):
    rc, cmds, err = dry_run(tmp_path, "layers=[block1_conv2,block5_conv3]", "filters=2")
    assert rc == 0, err
    assert {settings_of(cmds, "pages", name)["layer"] for name in ("block1_conv2", "block5_conv3")} \
        == {"block1_conv2", "block5_conv3"}
    assert not [c for c in cmds if "block3_conv1" in c]


def test_filters_per_layer(tmp_path):
    rc, cmds, err = dry_run(tmp_path, "filters={block4_conv3: [0,7]}")
    assert rc == 0, err
    assert settings_of(cmds, "ascend", "block4_conv3")["_filters"] == "0,7"
    assert settings_of(cmds, "ascend", "block1_conv1")["_filters"] == "0-63"  # the others: all


def test_a_boolean_as_users_write_it(tmp_path):
    for value in ("false", "False", "no"):
        rc, cmds, err = dry_run(tmp_path, f"compare_classic={value}", "layers=[block1_conv1]", "filters=2")
        assert rc == 0, err
        assert settings_of(cmds, "ascend", "block1_conv1")["classic"] is None, value
        assert settings_of(cmds, "pages", "block1_conv1")["compare_classic"] is False
    rc, cmds, err = dry_run(tmp_path, "compare_classic=True", "layers=[block1_conv1]", "filters=2")
    assert settings_of(cmds, "ascend", "block1_conv1")["classic"]["method"] == "classic"


def test_a_nested_override_changes_only_its_keys(tmp_path):
    rc, cmds, err = dry_run(tmp_path, "fourier={cutoff: 0.3}", "grid={tile: 96}",
                            "layers=[block2_conv1]", "filters=2")
    assert rc == 0, err
    fourier = settings_of(cmds, "ascend", "block2_conv1")["main"]["fourier"]
    assert fourier["cutoff"] == 0.3 and fourier["lr"] == 0.5 and fourier["scale"] == [0.9, 1.1]
    grid = settings_of(cmds, "grid", "block2_conv1")
    assert grid["tile"] == 96 and grid["columns"] == 16


def test_lucids_recipe_by_name(tmp_path):
    """As the README writes it: the old default, whole, from one word."""
    rc, cmds, err = dry_run(tmp_path, "fourier={schedule: lucid}", "layers=[block2_conv1]", "filters=1")
    assert rc == 0, err
    main = settings_of(cmds, "ascend", "block2_conv1")["main"]
    assert main["steps"] == 512 and main["fourier"]["schedule"] == "lucid"
    assert {k: main["fourier"][k] for k in ("lr", "pad", "canvas")} == {"lr": 0.05, "pad": 12, "canvas": "reflect"}
    rc, cmds, err = dry_run(tmp_path, "fourier={schedule: lucid, lr: 0.1}", "steps=64",
                            "layers=[block2_conv1]", "filters=1")
    main = settings_of(cmds, "ascend", "block2_conv1")["main"]
    assert rc == 0 and main["steps"] == 64 and main["fourier"]["lr"] == 0.1 and main["fourier"]["pad"] == 12


def test_maco_as_typed(tmp_path):
    """method=maco takes the fourier schedule and moves; its spectrum from skimage, or from the
    examples folder, whose listing is then in the settings (a changed folder reruns them)."""
    from PIL import Image

    rc, cmds, err = dry_run(tmp_path, "method=maco", "maco={spectrum: skimage}", "layers=[block5_conv1]", "filters=1")
    assert rc == 0, err
    main = settings_of(cmds, "ascend", "block5_conv1")["main"]
    assert main["method"] == "maco" and main["fourier"] is None and main["steps"] == 150
    assert (main["maco"]["schedule"], main["maco"]["spectrum"]) == ("wsd", "skimage")
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (64, 48), (90, 140, 30)).save(photos / "a.png")
    rc, cmds, err = dry_run(tmp_path, "method=maco", "maco={spectrum: examples}", f"examples={photos}",
                            "layers=[block1_conv2]", "filters=1")
    assert rc == 0, err
    maco = settings_of(cmds, "ascend", "block1_conv2")["main"]["maco"]
    assert maco["spectrum"] == str(photos) and maco["fingerprint"] not in ("skimage", "none")


def test_pixels_as_typed(tmp_path):
    """method=pixels (Lucid's decorrelated pixel image) takes fourier's schedule, rate, starting
    noise and moves, and hands its job only the knobs it uses, under its own name."""
    rc, cmds, err = dry_run(tmp_path, "method=pixels", "fourier={lr: 0.3}", "layers=[block5_conv1]", "filters=1")
    assert rc == 0, err
    main = settings_of(cmds, "ascend", "block5_conv1")["main"]
    assert main["method"] == "pixels" and main["fourier"] is None and main["steps"] == 150
    assert main["pixels"]["schedule"] == "wsd" and main["pixels"]["lr"] == 0.3 and "cutoff" not in main["pixels"]


def found_examples(cfg, layer: str) -> None:
    """A manifest as the examples job writes it for ``layer`` with ``cfg``'s settings."""
    from pipeline.config import settings
    from pipeline.output import layout

    scan = settings.examples(cfg, [layer])
    layout.write_json(layout.examples_manifest(cfg.outdir, layer), {"settings": settings.examples_layer(scan, layer)})


def test_the_estimate_counts_caricatures_until_their_layer_has_them(tmp_path):
    """After the examples, caricatures turned on later are still work ahead; once a layer's are
    written, only new examples bring them back."""
    from pipeline.config import estimate
    from pipeline.output import layout

    cfg = config.load(overrides={"outdir": str(tmp_path), "layers": ["block3_conv1"], "filters": 4,
                                 "caricatures": True, "dreams": [], "trust": False})
    dev = estimate.Device("CPU", 1e11, 1, "")
    found_examples(cfg, "block3_conv1")
    _, extras = estimate.ahead(cfg, {})
    assert extras == {"caricatures:block3_conv1": True}
    assert estimate.plan(cfg, {}, dev, extras, 13).seconds > estimate.START
    layout.write_json(layout.caricatures_manifest(tmp_path, "block3_conv1"), {})
    _, extras = estimate.ahead(cfg, {})
    assert extras["caricatures:block3_conv1"] is False and estimate.plan(cfg, {}, dev, extras, 13).seconds == 0


def test_the_estimate_counts_trust_scores_until_written_and_with_new_pictures(tmp_path):
    from pipeline.config import estimate
    from pipeline.output import layout

    cfg = config.load(overrides={"outdir": str(tmp_path), "layers": ["block3_conv1"], "filters": 4, "dreams": []})
    dev = estimate.Device("CPU", 1e11, 1, "")
    found_examples(cfg, "block3_conv1")
    _, extras = estimate.ahead(cfg, {})
    assert extras == {"trust:block3_conv1": True}
    assert estimate.plan(cfg, {}, dev, extras, 13).seconds > estimate.START
    layout.write_json(layout.trust_manifest(tmp_path, "block3_conv1"), {})
    _, extras = estimate.ahead(cfg, {})
    assert extras["trust:block3_conv1"] is False and estimate.plan(cfg, {}, dev, extras, 13).seconds == 0
    chunk = {("block3_conv1", 0): [0, 1, 2, 3]}  # new pictures: the layer's scores again
    with_trust = estimate.plan(cfg, chunk, dev, extras, 13).seconds
    without = estimate.plan(cfg, chunk, dev, {}, 13).seconds
    assert with_trust - without == pytest.approx(estimate.trust_seconds(cfg, "block3_conv1", 4, 13, dev))
    assert estimate.trust_seconds(cfg, "block3_conv1", 4, 13, dev) > estimate.START


def test_the_default_schedule_is_per_block_and_can_be_forced(tmp_path):
    """schedule auto: cosine before block 5, wsd in it; one word makes every layer cosine."""
    layers = "layers=[block4_conv3, block5_conv1]"
    rc, cmds, err = dry_run(tmp_path, layers, "filters=1")
    assert rc == 0, err
    four, five = (settings_of(cmds, "ascend", name)["main"] for name in ("block4_conv3", "block5_conv1"))
    assert (four["fourier"]["schedule"], four["steps"], four["fourier"]["cutoff"]) == ("cosine", 160, 0.22)
    assert (five["fourier"]["schedule"], five["steps"], five["fourier"]["cutoff"]) == ("wsd", 150, 0.27)
    rc, cmds, err = dry_run(tmp_path, layers, "filters=1", "fourier={schedule: cosine, jitter: 4}")
    assert rc == 0, err
    five = settings_of(cmds, "ascend", "block5_conv1")["main"]
    assert (five["fourier"]["schedule"], five["steps"], five["fourier"]["jitter"]) == ("cosine", 160, 4)


def test_examples_settings_as_users_type_them(tmp_path):
    """A folder, a count and a boolean on --config reach the examples job as what they are."""
    folder = tmp_path / "photos"
    folder.mkdir()
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "red.png")
    rc, cmds, err = dry_run(tmp_path, f"examples={folder}", "examples_top=4", "examples_negative=True",
                            "layers=[block1_conv1]", "filters=2")
    assert rc == 0, err
    e = settings_of(cmds, "examples")
    assert (e["source"], e["top"], e["negative"], e["side"]) == (str(folder), 4, True, 224)
    rc, cmds, err = dry_run(tmp_path, "examples=none", "layers=[block1_conv1]", "filters=2")
    assert rc == 0 and not [c for c in cmds if "pipeline examples" in c]


def test_a_nested_list_of_numbers(tmp_path):
    rc, cmds, err = dry_run(tmp_path, "fourier={scale: [0.8, 1.2]}", "layers=[block2_conv1]", "filters=1")
    assert rc == 0, err
    assert settings_of(cmds, "ascend", "block2_conv1")["main"]["fourier"]["scale"] == [0.8, 1.2]


def test_a_list_of_mappings(tmp_path):
    """The README's dream on the command line: numbers and names inside a list of mappings."""
    dream = 'dreams=[{name: cat, photo: "skimage:chelsea", layer: block5_conv3, filters: [0], size: 96}]'
    rc, cmds, err = dry_run(tmp_path, dream, "layers=[block5_conv3]", "filters=1")
    assert rc == 0, err
    job = settings_of(cmds, "dream")["dream"]
    assert job["filters"] == [0] and job["size"] == 96 and job["photo"] == "skimage:chelsea"
    assert job["steps"] == 20 and job["octaves"] == 3  # the schema's defaults, filled in


def test_the_sites_address_as_users_type_it(tmp_path):
    """base_url reaches the pages (their "cite as"), and only them."""
    rc, cmds, err = dry_run(tmp_path, "base_url=https://you.github.io/atlas/", "layers=[block1_conv1]", "filters=1")
    assert rc == 0, err[-2000:]
    assert settings_of(cmds, "pages", "block1_conv1")["base_url"] == "https://you.github.io/atlas/"
    assert "base_url" not in json.dumps(settings_of(cmds, "ascend", "block1_conv1"))


def test_gpu_jobs_ask_for_a_gpu_unless_device_is_cpu(tmp_path):
    """`resources: gpu` is what the SLURM profile turns into --gpus."""
    for device, gpus in (("auto", "gpu=1"), ("cpu", "gpu=0")):
        proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                    "-n", "--cores", "2", "--config", f"device={device}", "layers=[block1_conv1]", "filters=1"])
        assert proc.returncode == 0, proc.stderr[-2000:]
        ascend = proc.stdout.split("rule ascend:")[1].split("\n\n")[0]
        assert gpus in ascend, ascend


@pytest.mark.parametrize("config,expect", [
    ("filters=[0,7,600]", "filters = 600 is out of range for every selected layer"),
    ("compare_classic=maybe", "compare_classic = 'maybe' is not allowed"),
    ("'fourier={cutoff: 3}'", "fourier.cutoff = 3 is not allowed"),
    ("'filters={block9_conv1: [1]}'", "filters = 'block9_conv1' is not a conv layer of VGG16; did you mean 'block5_conv1'?"),
    ("'grid={tile: big}'", "grid.tile = 'big' is not allowed"),
    # A newcomer's typos get the word named and the closest valid one suggested.
    ("layers=[block1_conv2,block4_cnv3]", "layers = 'block4_cnv3' is not a conv layer of VGG16; did you mean "
     "'block4_conv3'? expected one of block1_conv1 ... block5_conv3 (13 layers)"),
    ("model=alexnet layers=[conv2,block5_conv3]", "layers = 'block5_conv3' is not a conv layer of AlexNet"),
    ("model=alexnet size=48", "size = 48 is not allowed for AlexNet: its deepest layers need 63 px or more"),
    ("model=vgg-19", "model = 'vgg-19' is not allowed; expected 'vgg16' (default), 'alexnet' or the path of a .keras file"),
    ("filter=16", "unknown setting 'filter' (did you mean 'filters'?); allowed: "),
    ("'fourier={cutof: 0.3}'", "unknown setting 'fourier.cutof' (did you mean 'cutoff'?); allowed in fourier: "),
    ("method=fourir", "method = 'fourir' is not allowed"),
    # A count past what every selected layer has is a mistake, not "all" in disguise.
    ("'layers=[block2_conv2]' filters=1000", "filters = 1000 is more than block2_conv2's 128 filters; expected 1 to 128"),
])
def test_a_bad_value_is_one_line_before_any_job(tmp_path, config, expect):
    rc, cmds, err = dry_run(tmp_path, *shlex.split(config))  # as typed in a shell
    assert rc != 0 and not cmds
    errors = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and expect in errors[0], err
    assert "Traceback" not in err


def test_snakemakes_linter_accepts_the_workflow(tmp_path):
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--lint"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Congratulations, your workflow is in a good condition" in proc.stdout + proc.stderr


def test_unlock_needs_no_cores(tmp_path):
    """The one command Snakemake itself prints after a crash."""
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--unlock"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"[Uu]nlock", proc.stdout + proc.stderr)


def estimate_line(stderr: str) -> str:
    (line,) = [l for l in stderr.splitlines() if l.startswith("estimate: ")]
    return line


def readme_section(title: str) -> str:
    return (REPO / "README.md").read_text().split(f"## {title}")[1].split("\n## ")[0]


def on_two_cores(value: float) -> float:
    """The README's figures are for a 2-core CPU; a run's estimate scales with its cores."""
    return value * (os.cpu_count() or 2) / 2


def test_quick_starts_first_run_estimates_what_the_readme_says(tmp_path):
    section = readme_section("A first atlas, in minutes")
    (command,) = [l for l in section.splitlines() if l.startswith("snakemake ")]
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                *shlex.split(command)[1:]])  # exactly as written, as a dry run
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = estimate_line(proc.stderr)
    assert line.startswith("estimate: 1 ascent job to run (64 of 64 filters); about ")
    said = float(re.search(r"about (\d+) min`", section)[1])
    estimated = float(re.search(r"about (\d+) min in all", line)[1])
    assert abs(on_two_cores(estimated) - said) <= max(1.0, 0.25 * said), (line, said)


def test_every_run_says_how_long_the_whole_atlas_takes(tmp_path):
    """The default atlas, dry: what it will do and for how long, as the README says it."""
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                "--cores", "all"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = estimate_line(proc.stderr)
    assert "13 ascent jobs to run (4,224 of 4,224 filters)" in line and "on this CPU" in line
    hours = float(re.search(r"about ([\d.]+) h in all", line)[1])
    said = float(re.search(r"about ([\d.]+) h`", readme_section("The whole atlas"))[1])
    assert abs(on_two_cores(hours) - said) <= 0.1 * said, (line, said)
    # A job's time limit is the device's: on this CPU, over an hour for a deep layer, not minutes.
    runtimes = [int(m) for m in re.findall(r"rule ascend:.*?runtime=(\d+)", proc.stdout, re.S)]
    assert len(runtimes) == 13 and max(runtimes) > 60, runtimes


def test_a_jax_run_is_estimated_at_jaxs_pace(tmp_path):
    """Through real dry runs: the same layer on Keras' JAX backend is estimated 3-4.5 times as
    long as on TensorFlow, as measured (docs/speed.md)."""
    minutes = {}
    for backend in ("tensorflow", "jax"):
        proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path / backend),
                    "-n", "--cores", "2", "--config", "layers=[block3_conv1]", "compare_classic=False",
                    "precision=float32", "examples=none", "dreams=[]", f"backend={backend}"])
        assert proc.returncode == 0, proc.stderr[-2000:]
        line = estimate_line(proc.stderr)
        minutes[backend] = float(re.search(r"about (\d+) min in all", line)[1])
    assert 3.0 < minutes["jax"] / minutes["tensorflow"] < 4.5, minutes


def figures() -> dict[str, str]:
    """The README's and docs' estimated figures, computed here as a run's first line computes
    them (rules/common.smk), for the default atlas on a 2-core CPU with and without bfloat16
    units and on one and eight H100s: their one source is the code."""
    from pipeline.config import estimate, settings

    cfg = config.load(overrides={"outdir": "/nonexistent/atlas"})
    todo, extras = estimate.ahead(cfg, settings.chunks(cfg))

    def seconds(gpus: int, precision: str) -> float:
        dev = estimate.device(gpus, 2, None, "tensorflow", precision, precision == "bfloat16")
        return estimate.plan(cfg, todo, dev, extras, 13).seconds

    trust = {n: sum(estimate.trust_flops(cfg, layer, len(fs), n) for layer, fs in cfg.filters.items()) / 1e15
             for n in (13, 50_000)}
    return {"pflop": f"{estimate.atlas_flops(cfg) / 1e15:.1f} PFLOP", "trust": f"{trust[13]:.2f} more",
            "trust_imagenet": f"{trust[50_000]:.2f} with an ImageNet folder",
            "cpu_auto": estimate.duration(seconds(0, "bfloat16")), "cpu_float32": estimate.duration(seconds(0, "float32")),
            "h100": estimate.duration(seconds(1, "bfloat16")), "h100x8": estimate.duration(seconds(8, "bfloat16"))}


def test_the_figures_in_the_readme_and_docs_are_the_codes():
    f = figures()
    readme = readme_section("The whole atlas")
    for said in (f["pflop"], f["trust"], f["trust_imagenet"], f"about {f['cpu_auto']}`", f"{f['cpu_float32']} in float32",
                 f"{f['h100']} on one H100, about {f['h100x8']} on eight"):
        assert said in readme, (said, f)
    table = (REPO / "docs" / "running.md").read_text()
    for said in (f"| **{f['cpu_float32']}** |", f"| **{f['cpu_auto']}** |", f"| **{f['h100']}** |", f"| **{f['h100x8']}** |",
                 f"about {f['cpu_auto']} in all on this", f"`precision=float32` {f['cpu_float32']}"):
        assert said in table, (said, f)
    speed = (REPO / "docs" / "speed.md").read_text()
    assert f"is {f['cpu_auto']} (`precision=float32`: {f['cpu_float32']})" in speed, f


def test_every_command_says_what_it_does_and_every_option_has_help():
    """python -m pipeline --help points to the README's first command; each command has a
    description and an example that parses; every option says what it is, with no markup."""
    import argparse

    from pipeline.__main__ import COMMANDS, DESCRIPTION, _parser

    first = "snakemake --cores all --config 'layers=[block1_conv2]'"
    assert first in DESCRIPTION and first in (REPO / "README.md").read_text()
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == set(COMMANDS)
    for name, sub in commands.choices.items():
        assert sub.description and sub.description.endswith(".") and "``" not in sub.format_help(), name
        for action in sub._actions:
            assert action.help, (name, action.dest)  # --settings is Snakemake's: suppressed, not missing
        example = COMMANDS[name].example.split()
        assert example[:4] == ["python", "-m", "pipeline", name]
        assert parser.parse_args(example[3:]).command == name
    assert "``" not in parser.format_help() and "trus\nt" not in parser.format_help()

