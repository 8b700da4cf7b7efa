"""Faults a newcomer meets, each through a real Snakemake run: a folder that is not an atlas, a
job killed, a Snakemake stopped with SIGTERM, and a killed batch that resumes where it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from conftest import REPO, run

TINY = ["dreams=[]", "examples=none", "compare_classic=false", "size=48"]


def snakemake_args(workdir: Path, *config: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
            "--cores", "2", "--config", *TINY, *config]


def start(workdir: Path, *config: str) -> subprocess.Popen:
    return subprocess.Popen(snakemake_args(workdir, *config), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def ascent_job(timeout: float = 120) -> psutil.Process:
    """The running `python -m pipeline ascend` job (not its shell)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in psutil.process_iter(["cmdline"]):
            cmd = p.info["cmdline"] or []
            if cmd[1:4] == ["-m", "pipeline", "ascend"]:
                return p
        time.sleep(0.2)
    raise AssertionError("no ascent job started")


def wait_for(path_glob: Path, timeout: float = 120) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sorted(path_glob.parent.glob(path_glob.name))
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{path_glob} never appeared")


def errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def test_someone_elses_folder_is_refused_and_left_as_it_was(tmp_path):
    mine = tmp_path / "site"
    mine.mkdir()
    (mine / "index.html").write_text("<p>my own page</p>")
    proc = run(snakemake_args(tmp_path, "outdir=site", "layers=[block1_conv1]", "filters=1", "steps=1"))
    assert proc.returncode != 0
    (line,) = errors(proc.stderr)
    assert "outdir = 'site' holds files this pipeline did not write (index.html" in line
    assert (mine / "index.html").read_text() == "<p>my own page</p>" and sorted(os.listdir(mine)) == ["index.html"]


def test_a_killed_batch_resumes_from_its_last_saved_step_with_the_same_images(tmp_path, real_weights):
    """kill -9 mid-batch: the run names the signal in one line; the rerun resumes the batch from
    its saved state and writes what a run never stopped writes, byte for byte."""
    config = ["layers=[block2_conv1]", "filters=3", "steps=40", "outdir=atlas"]
    killed = tmp_path / "killed"
    proc = start(killed, *config)
    saved = wait_for(killed / "atlas" / "manifests" / "checkpoints" / "block2_conv1-main-*.npz")
    ascent_job().kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    (line, advice) = errors(err)
    assert "rule ascend" in line and "killed by SIGKILL, not failed" in line and "run the same command again" in line
    assert saved.exists()
    again = run(snakemake_args(killed, *config))
    assert again.returncode == 0, again.stderr[-3000:]
    log = (killed / "atlas" / "logs" / "ascend" / "block2_conv1-0000.log").read_text()
    assert "resuming from step" in log and not saved.exists()
    whole = run(snakemake_args(tmp_path / "whole", *config))
    assert whole.returncode == 0, whole.stderr[-3000:]
    for f in range(3):
        name = Path("atlas") / "filters" / "block2_conv1" / f"{f:04d}.png"
        assert (killed / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_sigterm_to_snakemake_ends_its_jobs_within_seconds(tmp_path, real_weights):
    """What `kill`, a service manager or a login node's limit sends: the job stops too."""
    proc = start(tmp_path, "layers=[block3_conv1]", "filters=4", "steps=400")
    job = ascent_job()
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    gone, _ = psutil.wait_procs([job], timeout=15)
    assert gone, "the ascent job went on computing after Snakemake was told to stop"
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert any("killed by SIGTERM" in line for line in errors(err)), err[-2000:]
