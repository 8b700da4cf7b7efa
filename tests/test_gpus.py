"""Every GPU of a box busy: one job per GPU at once, each on its own, held for the job's life.

GPUs are counted with nvidia-smi; tests/fake_gpus/nvidia-smi lists two cards that TensorFlow
cannot use, so the whole chain runs for real up to TensorFlow, which then falls back to the CPU.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, run

FAKE = str(REPO / "tests" / "fake_gpus")


def with_fake_gpus(n: int = 2, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    return {**env, "PATH": f"{FAKE}:{os.environ['PATH']}", "FAKE_GPUS": str(n), **extra}


def test_two_gpus_two_jobs_at_once_each_on_its_own(tmp_path):
    locks = tmp_path / "locks"
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "--cores", "2", "--config", "layers=[block1_conv1,block1_conv2]", "filters=2", "steps=2",
                "size=32", "compare_classic=false", "dreams=[]", "examples=none"],
               env=with_fake_gpus(2, VGG16_ATLAS_GPU_LOCKS=str(locks)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Broken CUDA (here: GPUs TensorFlow cannot use) is said in one line at the start.
    warning = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
    assert len(warning) == 1 and "nvidia-smi lists 2 GPU(s)" in warning[0] and "estimated" in warning[0]
    manifests = [json.loads(p.read_text()) for p in sorted((tmp_path / "atlas" / "manifests" / "ascend").glob("*.json"))]
    assert len(manifests) == 2
    (a, b) = manifests
    assert a["started"] < b["finished"] and b["started"] < a["finished"], "the two jobs did not overlap"
    gpus = {m["device"].split("GPU-fake-")[1][:4] for m in manifests}
    assert gpus == {"0000", "0001"}, [m["device"] for m in manifests]
    record = json.loads((tmp_path / "atlas" / "filters" / "block1_conv1" / "0000.json").read_text())
    assert record["device"].startswith("CPU (assigned GPU") and "Fake GPU" in record["device"]
    log = (tmp_path / "atlas" / "logs" / "ascend" / "block1_conv1-0000.log").read_text()
    assert "device: CPU (assigned GPU" in log


CLAIM = ("import sys, time; sys.path.insert(0, {repo!r}); from pipeline.jobs import device; "
         "print(device.claim(), flush=True); time.sleep(600)")


def test_a_gpu_is_held_for_the_jobs_life_and_freed_even_by_sigkill(tmp_path):
    env = with_fake_gpus(1, VGG16_ATLAS_GPU_LOCKS=str(tmp_path))
    code = CLAIM.format(repo=str(REPO))
    first = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "GPU-fake-0000" in first.stdout.readline()
        second = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(3)
            assert second.poll() is None  # still waiting: the only GPU is taken
            first.send_signal(signal.SIGKILL)
            assert "GPU-fake-0000" in second.stdout.readline()  # the kernel freed the lock
            assert "waiting for one" in second.stderr.readline()
        finally:
            second.kill()
    finally:
        first.kill()


def test_a_schedulers_cuda_visible_devices_is_respected(tmp_path):
    code = ("import sys; sys.path.insert(0, {repo!r}); from pipeline.jobs import device; "
            "print(device.claim())").format(repo=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=with_fake_gpus(2, SLURM_JOB_ID="7", CUDA_VISIBLE_DEVICES="1",
                                            VGG16_ATLAS_GPU_LOCKS=str(tmp_path)))
    assert out.stdout.strip() == "CUDA_VISIBLE_DEVICES=1 (from SLURM)"
    # Set by the user: only the GPUs it names are candidates.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**with_fake_gpus(2, VGG16_ATLAS_GPU_LOCKS=str(tmp_path)),
                              "CUDA_VISIBLE_DEVICES": "1"})
    assert "GPU 1 (Fake GPU, GPU-fake-0001)" in out.stdout


def test_device_gpu_without_a_gpu_is_one_line_before_any_job(tmp_path):
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "--cores", "2", "--config", "device=gpu", "layers=[block1_conv1]", "filters=1"],
               env={**os.environ, "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                          if not os.path.exists(os.path.join(p, "nvidia-smi")))})
    assert proc.returncode != 0
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "device: gpu" in errors[0] and "nvidia-smi lists no GPU" in errors[0]
    assert "Traceback" not in proc.stderr and not (tmp_path / "atlas").exists()


def test_device_gpu_where_jax_sees_none_is_one_line_before_any_job(tmp_path):
    """nvidia-smi lists two GPUs, but this JAX is the CPU build: one line naming JAX's CUDA build."""
    pytest.importorskip("jax")
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                "--cores", "2", "--config", "backend=jax", "device=gpu", "layers=[block1_conv1]", "filters=1"],
               env=with_fake_gpus(2))
    assert proc.returncode != 0
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "device: gpu, but JAX can use no GPU here" in errors[0], proc.stderr[-2000:]
    assert "jax[cuda12]" in errors[0] and not (tmp_path / "atlas").exists()
