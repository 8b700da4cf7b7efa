"""A real Snakemake run on the real weights, then what a rerun would redo."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run

SMALL = ["layers=[block1_conv2,block3_conv1]", "filters=3", "steps=4", "size=48", "outdir=atlas",
         "method=classic", "dreams=[]"]


def snakemake(workdir, *args):
    return run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", *args])


def planned_jobs(proc) -> dict[str, int]:
    """The 'Job stats' table of a dry run: rule name -> count."""
    table = proc.stdout.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)$", table, re.M)}


@pytest.fixture(scope="module")
def atlas(tmp_path_factory, real_weights):
    workdir = tmp_path_factory.mktemp("smk")
    proc = snakemake(workdir, "--config", *SMALL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_every_output_exists_and_decodes(atlas):
    out = atlas / "atlas"
    for layer in ("block1_conv2", "block3_conv1"):
        for f in range(3):
            png = out / "filters" / layer / f"{f:04d}.png"
            with Image.open(png) as im:
                assert im.size == (48, 48) and im.mode == "RGB"
            meta = json.loads((out / "filters" / layer / f"{f:04d}.json").read_text())
            assert meta["layer"] == layer and meta["filter"] == f and meta["steps"] == 4
            assert meta["activation"]["png"] > meta["activation"]["initial"]
            assert meta["weights"].startswith("torchvision-imagenet")
            assert meta["weights_licence"].startswith("BSD")
        with Image.open(out / "grids" / f"{layer}.png") as im:
            assert np.asarray(im).std() > 5
        assert (out / "layers" / f"{layer}.html").exists()
    index = (out / "index.html").read_text()
    assert "thumbs/block3_conv1.webp" in index and "layers/block3_conv1.html" in index
    assert "grids/block3_conv1.png" in (out / "layers" / "block3_conv1.html").read_text()
    assert not list(out.rglob("*.tmp"))
    assert (out / "benchmarks" / "ascend" / "block1_conv2-0000.tsv").exists()


def test_precision_auto_is_decided_by_the_job_and_said(atlas):
    """The default, ``precision: auto``: the job's settings say auto, its record and its log say
    what this machine chose; a rerun here keeps every filter (test_nothing_to_do_when_unchanged)."""
    from pipeline.jobs import device

    chosen = "bfloat16" if device.cpu_bfloat16() else "float32"
    meta = json.loads((atlas / "atlas" / "filters" / "block3_conv1" / "0000.json").read_text())
    assert meta["precision"] == chosen
    log = (atlas / "atlas" / "logs" / "ascend" / "block3_conv1-0000.log").read_text()
    assert f"precision: {chosen} (auto: this CPU" in log
    manifest = json.loads((atlas / "atlas" / "manifests" / "ascend" / "block3_conv1-0000.json").read_text())
    assert manifest["rate"]["precision"] == chosen


def test_nothing_to_do_when_unchanged(atlas):
    proc = snakemake(atlas, "-n", "--config", *SMALL)
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_adding_a_layer_reruns_only_that_layer(atlas):
    proc = snakemake(atlas, "-n", "--config", *SMALL[1:], "layers=[block1_conv2,block3_conv1,block5_conv3]")
    jobs = planned_jobs(proc)
    # The examples pass writes the new layer's mosaics too, so every layer's pages follow it.
    # The trust scores follow the examples: every layer's.
    assert jobs == {"ascend": 1, "twins": 1, "grid": 1, "examples": 1, "trust": 3, "pages": 3, "site": 1,
                    "all": 1}, proc.stdout


def test_changing_the_title_rerenders_only_the_pages(atlas):
    proc = snakemake(atlas, "-n", "--config", *SMALL, "title=Another title")
    assert planned_jobs(proc) == {"pages": 2, "site": 1, "all": 1}, proc.stdout


def test_changing_steps_reruns_the_ascents(atlas):
    proc = snakemake(atlas, "-n", "--config", *[a for a in SMALL if not a.startswith("steps")], "steps=6")
    jobs = planned_jobs(proc)
    assert "weights" not in jobs  # the converted weights are not redone
    assert jobs == {"ascend": 2, "twins": 2, "grid": 2, "trust": 2, "pages": 2, "site": 1, "all": 1}, proc.stdout


def test_a_classic_setting_redoes_only_the_classic_images(tmp_path, real_weights):
    """The comparison renders in the main ascent's job; the job keeps what is already done."""
    config = ["layers=[block2_conv1]", "filters=2", "steps=2", "size=32", "dreams=[]"]
    assert snakemake(tmp_path, "--config", *config).returncode == 0
    main = tmp_path / "atlas" / "filters" / "block2_conv1" / "0001.png"
    classic = tmp_path / "atlas" / "classic" / "block2_conv1" / "0001.png"
    before = (main.stat().st_mtime_ns, classic.read_bytes())
    proc = snakemake(tmp_path, "--config", *config, "classic={step_size: 3.0}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert main.stat().st_mtime_ns == before[0]      # kept
    assert classic.read_bytes() != before[1]         # redone with the new step size
    log = (tmp_path / "atlas" / "logs" / "ascend" / "block2_conv1-0000.log").read_text()
    assert "main: 2 of 2 filters already rendered with these settings; keeping them" in log
