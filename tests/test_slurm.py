"""The atlas past one machine: a real single-node SLURM, two fake GPUs, Snakemake's SLURM plugin.

tests/slurm/cluster.sh starts SLURM from Debian's packages (.ci/run installs them); the run goes
through profiles/slurm exactly as a cluster user's would, with the settings a cluster without
an accounting database needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run
from pipeline.output import layout

pytestmark = pytest.mark.slow
CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
CONFIG = ["layers=[block1_conv2,block2_conv1]", "filters=2", "steps=3", "size=32",
          "compare_classic=false", "dreams=[]"]
# No accounting database here: squeue for status; the node has 2 CPUs, so 1 per GPU job.
SLURM = ["--slurm-status-command", "squeue", "--set-threads", "ascend=1", "examples=1", "twins=1", "trust=1", "--jobs", "4",
         "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "2"]


@pytest.fixture(scope="module")
def cluster():
    if not shutil.which("slurmctld") or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("SLURM is not installed or not root; .ci/run installs it (tests/slurm/cluster.sh install)")
        pytest.skip("needs root and Debian's slurm-wlm (tests/slurm/cluster.sh install)")
    subprocess.run([str(CLUSTER), "start"], check=True)
    yield
    subprocess.run([str(CLUSTER), "stop"], check=False)


def snakemake_slurm(workdir, *extra, config=()):
    t0 = time.perf_counter()
    proc = run(["timeout", "-k", "30", "900", sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                "-d", str(workdir), "--profile", str(REPO / "profiles" / "slurm"), *SLURM,
                *extra, "--config", *CONFIG, *config])
    return proc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def on_slurm(cluster, tmp_path_factory, real_weights):
    workdir = tmp_path_factory.mktemp("slurm")
    proc, seconds = snakemake_slurm(workdir)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    print(f"SLURM run: {seconds:.1f} s")
    return workdir, proc


def test_every_job_went_through_sbatch(on_slurm):
    workdir, proc = on_slurm
    out = proc.stdout + proc.stderr
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    table = out.split("Job stats:")[1].split("total")[0]
    planned = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)$", table, re.M)}
    assert planned == {"ascend": 2, "twins": 2, "grid": 2, "examples": 1, "trust": 2, "pages": 2, "site": 1,
                       "metrics": 1, "all": 1}
    assert len(set(submitted)) == sum(planned.values()) - 1  # all but the target rule `all`
    assert len(list((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))) == len(set(submitted))


def test_two_gpu_jobs_ran_at_once_on_different_gpus(on_slurm):
    """Three GPU jobs are ready at the start (two ascents, the examples) for two GPUs: two of
    them share the node, each on its own GPU; which two is SLURM's choice."""
    workdir, _ = on_slurm
    atlas = workdir / "atlas"
    manifests = [json.loads(p.read_text()) for p in sorted((atlas / "manifests" / "ascend").glob("*.json"))]
    manifests.append(json.loads(Path(layout.examples_manifest(atlas, "block1_conv2")).read_text()))
    assert all("from SLURM" in m["device"] for m in manifests), [m["device"] for m in manifests]
    gpu = [re.search(r"CUDA_VISIBLE_DEVICES=(\d)", m["device"]).group(1) for m in manifests]
    overlapping = [(i, j) for i in range(len(manifests)) for j in range(i + 1, len(manifests))
                   if manifests[i]["started"] < manifests[j]["finished"]
                   and manifests[j]["started"] < manifests[i]["finished"]]
    assert overlapping, "no two GPU jobs overlapped"
    assert all(gpu[i] != gpu[j] for i, j in overlapping), (gpu, overlapping)


def test_same_pngs_as_a_local_run(on_slurm, tmp_path):
    workdir, _ = on_slurm
    local = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                 "--cores", "2", "--config", *CONFIG])
    assert local.returncode == 0, local.stderr[-3000:]
    theirs = sorted((workdir / "atlas" / "filters").rglob("*.png"))
    assert len(theirs) == 4
    for png in theirs:
        mine = tmp_path / png.relative_to(workdir)
        assert mine.read_bytes() == png.read_bytes(), png.name


def test_a_second_run_has_nothing_to_do(on_slurm):
    workdir, _ = on_slurm
    proc, _ = snakemake_slurm(workdir)
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def errors(proc) -> list[str]:
    return [l for l in proc.stderr.splitlines() if l.startswith("error: ")]


def test_asking_for_more_than_a_node_has_is_one_line(cluster, tmp_path, real_weights):
    proc, _ = snakemake_slurm(tmp_path, "--set-threads", "ascend=64")
    assert proc.returncode != 0
    first = errors(proc)[0]
    assert first.startswith("error: rule ascend") and "More processors requested than permitted" in first
    assert "set-threads" in first, first
    assert not list((tmp_path / "atlas").rglob("*.png"))


def test_a_failed_job_is_one_line_and_a_rerun_redoes_only_it(cluster, tmp_path, real_weights):
    from PIL import Image

    photo = tmp_path / "photo.png"
    photo.write_text("not an image")  # exists, so the config passes; the job cannot read it
    dream = f"dreams=[{{name: bad, photo: {photo}, layer: block1_conv2, filters: [0], size: 48, steps: 1, octaves: 1}}]"
    proc, _ = snakemake_slurm(tmp_path, "--set-threads", "ascend=1", "dream=1", config=[dream, "examples=none"])
    assert proc.returncode != 0
    lines = errors(proc)
    assert any(l.startswith("error: rule dream (atlas/logs/dream/bad.log): dreams: photo")
               and "could not be read as an image" in l for l in lines), lines
    assert "run the same command again" in lines[-1]
    Image.new("RGB", (60, 40), (200, 120, 40)).save(photo)
    proc, _ = snakemake_slurm(tmp_path, "--set-threads", "ascend=1", "dream=1", config=[dream, "examples=none"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = (proc.stdout + proc.stderr).split("Job stats:")[1].split("total")[0]
    planned = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)$", table, re.M)}
    assert planned.get("dream") == 1 and "ascend" not in planned, planned


def test_a_job_past_its_time_limit_is_one_line(cluster, tmp_path, real_weights):
    """SLURM stops a job at its time limit (here 1 minute for several minutes of work: in
    bfloat16, 64 filters of 40 steps fit in the minute)."""
    proc, _ = snakemake_slurm(tmp_path, "--set-resources", "ascend:runtime=1",
                              config=["layers=[block5_conv3]", "filters=64", "steps=200", "size=64", "examples=none"])
    assert proc.returncode != 0
    lines = errors(proc)
    assert lines[0].startswith("error: rule ascend (atlas/logs/ascend/block5_conv3-0000.log): "
                               "SLURM stopped it at its time limit"), lines
    assert "--set-resources" in lines[0] and "run the same command again" in lines[-1]
