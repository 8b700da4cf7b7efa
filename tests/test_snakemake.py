"""A real Snakemake run on the real weights, then what a rerun would redo."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
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
    (workdir / "terminal.txt").write_text(proc.stdout + proc.stderr)  # what the user saw
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


def test_the_terminal_shows_each_ascent_job_start_and_end(atlas):
    """Beside Snakemake's own lines, each ascent job's start, end and (tests/test_render.py) a
    progress line about once a minute; the log file has every line."""
    seen = (atlas / "terminal.txt").read_text()
    assert "block3_conv1 main: 3 filters, method classic" in seen
    assert "block3_conv1: 3 filters done" in seen
    log = (atlas / "atlas" / "logs" / "ascend" / "block3_conv1-0000.log").read_text()
    assert "block3_conv1 main: 3 filters" in log and "step 4/4" in log


def test_every_job_that_takes_minutes_talks_in_the_terminal(atlas):
    """The examples scan and the trust scores say in the terminal when they start and end (and
    about once a minute in between), as an ascent does; their logs have every line. (A dream:
    tests/test_dreams_and_classes.py.)"""
    seen = (atlas / "terminal.txt").read_text()
    for line in ("examples: from 'skimage'", "trust: block3_conv1, 3 filters", "trust: block3_conv1: 3/3 filters"):
        assert line in seen, line
    log = (atlas / "atlas" / "logs" / "trust" / "block3_conv1.log").read_text()
    assert "trust: block3_conv1: 3/3 filters" in log


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
    """The examples scan runs for the new layer alone: nothing of the layers already rendered
    is planned (block5_conv3 neighbours neither, so not even their pages)."""
    proc = snakemake(atlas, "-n", "--config", *SMALL[1:], "layers=[block1_conv2,block3_conv1,block5_conv3]")
    jobs = planned_jobs(proc)
    assert jobs == {"ascend": 1, "twins": 1, "grid": 1, "examples": 1, "trust": 1, "pages": 1, "site": 1,
                    "metrics": 1, "all": 1}, proc.stdout
    layers = re.findall(r"wildcards: layer=(\w+)", proc.stdout)
    assert len(layers) == 5 and set(layers) == {"block5_conv3"}, layers  # ascend, twins, grid, trust, pages


def files_of(out, layers: list[str]) -> dict[str, tuple[bytes, int]]:
    """Every file of ``layers`` (pictures, records, examples, trust, twins, grids, thumbnails,
    manifests), as bytes and modification time, but their pages and logs."""
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file() and any(layer in p.relative_to(out).as_posix() for layer in layers)
            and p.relative_to(out).parts[0] not in ("layers", "logs", "benchmarks")
            and "pages" not in p.relative_to(out).parts and p.suffix != ".html"}


def test_after_adding_a_layer_the_old_layers_files_are_untouched(atlas, tmp_path):
    """A real run adding block2_conv1 between the two: the old layers' files but their pages
    stay byte-identical, untouched; block1_conv2's pages rerun (block2_conv1 comes next in the
    network: its filter pages link their outputs there), block3_conv1's do not."""
    workdir = tmp_path / "added"
    shutil.copytree(atlas, workdir, symlinks=True)
    old = ["block1_conv2", "block3_conv1"]
    before = files_of(workdir / "atlas", old)
    added = [*SMALL[1:], "layers=[block1_conv2,block2_conv1,block3_conv1]"]
    plan = planned_jobs(snakemake(workdir, "-n", "--config", *added))
    assert plan == {"ascend": 1, "twins": 1, "grid": 1, "examples": 1, "trust": 1, "pages": 2, "site": 1,
                    "metrics": 1, "all": 1}, plan
    proc = snakemake(workdir, "--config", *added)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert files_of(workdir / "atlas", old) == before
    assert (workdir / "atlas" / "filters" / "block2_conv1" / "0002.png").exists()
    assert "block2_conv1" in (workdir / "atlas" / "filters" / "block1_conv2" / "0000.html").read_text()


def test_changing_the_title_rerenders_only_the_pages(atlas):
    """Not the table of every filter's numbers either: no record changed."""
    proc = snakemake(atlas, "-n", "--config", *SMALL, "title=Another title")
    assert planned_jobs(proc) == {"pages": 2, "site": 1, "all": 1}, proc.stdout


def test_changing_steps_reruns_the_ascents(atlas):
    proc = snakemake(atlas, "-n", "--config", *[a for a in SMALL if not a.startswith("steps")], "steps=6")
    jobs = planned_jobs(proc)
    assert "weights" not in jobs  # the converted weights are not redone
    assert jobs == {"ascend": 2, "twins": 2, "grid": 2, "trust": 2, "pages": 2, "site": 1, "metrics": 1, "all": 1}, \
        proc.stdout


def test_a_classic_setting_redoes_only_the_classic_images(tmp_path, real_weights):
    """The comparison renders in the main ascent's job; the job keeps what is already done."""
    config = ["layers=[block2_conv1]", "filters=2", "steps=2", "size=32", "dreams=[]", "examples=none"]
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


def reachable(root) -> set[str]:
    """The pages a visitor reaches from index.html by following links."""
    seen, todo = set(), ["index.html"]
    while todo:
        page = todo.pop()
        if page in seen or not (root / page).is_file():
            continue
        seen.add(page)
        for href in re.findall(r'href="([^"#?]+\.html)', (root / page).read_text()):
            if "://" not in href:
                todo.append((root / page).parent.joinpath(href).resolve().relative_to(root.resolve()).as_posix())
    return seen


def test_publish_shows_only_the_site_with_an_author_and_no_bookkeeping(atlas, tmp_path):
    """A run with fewer layers than were rendered, then publish into a bare repository with an
    empty HOME (no git identity): every published page is reachable from the network page, the
    layer left out stays on disk, no Snakemake file is published, and the commit has an author."""
    workdir = tmp_path / "fewer"
    shutil.copytree(atlas, workdir, symlinks=True)
    fewer = [*SMALL[1:], "layers=[block1_conv2]"]
    proc = snakemake(workdir, "--config", *fewer)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (workdir / "atlas" / "filters" / "block3_conv1" / "0000.png").exists()  # never deleted
    bare, home = tmp_path / "remote.git", tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "XDG_"))}
    env |= {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "PYTHONPATH": str(REPO)}
    for cmd in (["git", "init", "-q", "--bare", str(bare)], ["git", "init", "-q", "."],
                ["git", "remote", "add", "origin", str(bare)]):
        subprocess.run(cmd, cwd=workdir, env=env, check=True)
    proc = run([sys.executable, "-m", "pipeline", "publish", "--outdir", "atlas", "--remote", "origin"],
               cwd=workdir, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "block3_conv1 rendered in atlas but not on its network page" in proc.stderr
    assert "committing as VGG16 Atlas <vgg16-atlas@localhost>" in proc.stderr
    author = subprocess.run(["git", "-C", str(bare), "log", "-1", "--format=%cn <%ce>", "gh-pages"],
                            capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert author == "VGG16 Atlas <vgg16-atlas@localhost>"
    site = tmp_path / "site"
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(bare), str(site)], env=env, check=True)
    files = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [f for f in files if "block3_conv1" in f or ".snakemake" in f], files
    pages = {f for f in files if f.endswith(".html")}
    assert pages and reachable(site) == pages, sorted(pages - reachable(site))
