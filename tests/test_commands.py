"""Every command of docs/running.md's "Running without Snakemake", typed as written there (with
a small config on top: fewer steps, smaller pictures), in its order; and the network page
before any dream is rendered."""

from __future__ import annotations

import os
import shlex

import yaml

from conftest import REPO, run

SMALL = {"steps": 4, "size": 48, "layers": ["block5_conv1"], "filters": 8, "examples_side": 64,
         "caricatures": True, "caricatures_steps": 3,
         "dreams": [{"name": "cat", "photo": "skimage:chelsea", "layer": "block2_conv1", "filters": [1, 2],
                     "steps": 2, "size": 64, "octaves": 1}]}


def documented() -> list[str]:
    text = (REPO / "docs" / "running.md").read_text()
    block = text.split("## Running without Snakemake")[1].split("```bash")[1].split("```")[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip().startswith("python -m pipeline")]


def test_the_documented_commands_are_the_ones_tested():
    names = [shlex.split(c)[3] for c in documented()]
    assert names == ["weights", "ascend", "ascend", "grid", "twins", "examples", "caricatures", "dream", "pages",
                     "site", "metrics", "publish"]  # publish: tests/test_site.py and test_snakemake.py


def test_every_documented_command_works_as_written(tmp_path, real_weights):
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    for command in documented():
        if " publish" in command:
            continue
        if command.endswith(" dream --name cat"):  # the network page first, before any dream is rendered
            proc = run([*shlex.split(command.replace("dream --name cat", "site")), "--config", "small.yaml"],
                       cwd=tmp_path, env=env())
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert "dreams.html" not in (tmp_path / "atlas" / "index.html").read_text()
        proc = run([*shlex.split(command), "--config", "small.yaml"], cwd=tmp_path, env=env())
        assert proc.returncode == 0, f"{command}: {proc.stderr[-2000:]}"
    atlas = tmp_path / "atlas"
    assert (atlas / "grids" / "block5_conv1.png").exists()
    assert (tmp_path / "mine" / "filters" / "block4_conv3" / "0100.png").exists()
    page = (atlas / "filters" / "block5_conv1" / "0007.html").read_text()
    assert "examples/block5_conv1/0007.webp" in page and "caricatures/block5_conv1/0007.png" in page
    assert "dreams.html" in (atlas / "index.html").read_text()
    assert (atlas / "metrics.csv").read_text().count("\nblock5_conv1,") == 8  # a row per filter


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}
