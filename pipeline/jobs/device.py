"""Where a job runs: its own GPU on a box of several, the one a scheduler gave it, or the CPU.

Snakemake gives a job no GPU of its own (it sets no ``CUDA_VISIBLE_DEVICES``), so every GPU
job chooses in its own process, before TensorFlow starts:

- a ``CUDA_VISIBLE_DEVICES`` set by SLURM (or any scheduler) is the job's, as it is;
- otherwise the job takes a non-blocking ``flock`` on one lock file per GPU, in a node-local
  folder, and keeps it open for its lifetime; the kernel releases it when the process ends,
  even on SIGKILL. With every GPU taken it waits for one. A ``CUDA_VISIBLE_DEVICES`` the user
  set limits which GPUs are candidates.

GPUs are counted with ``nvidia-smi``, so a test can put a fake one on ``PATH``. TensorFlow
then allocates memory as it needs it rather than mapping the whole card (``backend.start``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import AtlasError

LOCKS = Path(os.environ.get("VGG16_ATLAS_GPU_LOCKS", "/tmp/vgg16-atlas-gpu-locks"))
_held: list = []     # open lock files: closing them (or the process ending) frees the GPU
_chosen: list = []   # what choose() decided, for start() to report


@dataclass(frozen=True)
class Gpu:
    index: str    # nvidia-smi's index
    uuid: str
    name: str
    free_mb: int


def listed_gpus() -> list[Gpu]:
    """The GPUs ``nvidia-smi`` lists (none when it is missing or fails)."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,uuid,name,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    gpus = []
    for line in out.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4:
            free = int(parts[3]) if parts[3].isdigit() else 0
            gpus.append(Gpu(parts[0], parts[1], parts[2], free))
    return gpus


def candidates(gpus: list[Gpu]) -> list[Gpu]:
    """The GPUs this process may use: those ``CUDA_VISIBLE_DEVICES`` names, if it is set."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return gpus
    wanted = [v.strip() for v in visible.split(",") if v.strip()]
    return [g for g in gpus if g.index in wanted or g.uuid in wanted]


def count() -> int:
    """How many GPUs this machine's jobs can share (0 on a CPU-only machine)."""
    return len(candidates(listed_gpus()))


def _lock(gpu_id: str):
    LOCKS.mkdir(parents=True, exist_ok=True)
    fh = open(LOCKS / f"{gpu_id}.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def claim(log=sys.stderr, wait: float = 2.0) -> str:
    """Give this process one GPU of its own (before TensorFlow starts); say which.

    Returns a description of the assignment for the job's log; ``""`` when there is no GPU.
    """
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("CUDA_VISIBLE_DEVICES"):
        return f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']} (from SLURM)"
    gpus = candidates(listed_gpus())
    if not gpus:
        return ""
    said = False
    while True:
        for gpu in gpus:
            held = _lock(gpu.uuid)
            if held:
                _held.append(held)
                # Indices depend on the enumeration order; a UUID names one card everywhere.
                os.environ["CUDA_VISIBLE_DEVICES"] = gpu.uuid
                return f"GPU {gpu.index} ({gpu.name}, {gpu.uuid}), CUDA_VISIBLE_DEVICES={gpu.uuid}"
        if not said:
            print(f"device: all {len(gpus)} GPUs are held by other jobs; waiting for one", file=log, flush=True)
            said = True
        time.sleep(wait)


def choose(setting: str) -> None:
    """Pick this process's device before TensorFlow is imported (it reads the environment once).

    ``setting`` is the config's ``device``: ``auto``, ``gpu`` or ``cpu``.
    """
    if _chosen:
        return
    if setting == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        _chosen.append("")
    else:
        _chosen.append(claim())
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX's memory growth


# What says a processor computes bfloat16 natively: x86 flags (AVX512_BF16, AMX), Arm's BF16
# feature, as Linux lists them in /proc/cpuinfo.
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def cpu_bfloat16(cpuinfo: str | None = None) -> str | None:
    """The flag by which this CPU computes bfloat16 natively (None where it does not, or where
    the system does not say: then ``precision: auto`` keeps float32)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    flags = set()
    for line in cpuinfo.splitlines():
        if line.split(":")[0].strip() in ("flags", "Features"):
            flags |= set(line.split(":", 1)[1].split())
    return next((f for f in BF16_FLAGS if f in flags), None)


BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX"}
GPU_INSTALL = {"tensorflow": "install requirements-gpu.txt",
               "jax": "install JAX's CUDA build (pip install 'jax[cuda12]', as JAX documents)"}


def where(setting: str, usable: int, backend: str = "tensorflow") -> str:
    """Where this job runs, e.g. "GPU 0 (NVIDIA H100, GPU-...)" or "CPU", once the backend has
    started and found ``usable`` GPUs. With ``device: gpu`` and none: one line, before any work."""
    assigned = _chosen[0] if _chosen else ""
    if usable:
        return assigned or "GPU 0"
    if setting == "gpu":
        raise AtlasError(no_gpu_message(backend))
    return "CPU" + (f" (assigned {assigned}, which {BACKENDS[backend]} cannot use)" if assigned else "")


def no_gpu_message(backend: str = "tensorflow") -> str:
    """The one line for ``device: gpu`` where the backend can use no GPU."""
    return (f"device: gpu, but {BACKENDS[backend]} can use no GPU here ({why_no_gpu(backend)}); "
            f"{GPU_INSTALL[backend]}, or set device to auto or cpu")


def why_no_gpu(backend: str = "tensorflow") -> str:
    listed = listed_gpus()
    if not listed:
        return "nvidia-smi lists no GPU"
    return (f"nvidia-smi lists {len(listed)} GPU(s) but this {BACKENDS[backend]} cannot use them: "
            "a CPU-only build or CUDA libraries that do not load")


SEES_GPU = {  # how each backend counts the GPUs it can use
    "tensorflow": "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))",
    "jax": "import jax; print(sum(d.platform == 'gpu' for d in jax.devices()))",
}


def backend_sees_gpu(backend: str = "tensorflow") -> bool:
    """Whether ``backend`` can use a GPU here, asked in a child process (a GPU stays free)."""
    code = SEES_GPU[backend]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return out.returncode == 0 and out.stdout.strip() not in ("", "0")


def free_memory_bytes() -> int | None:
    """Free memory of this job's GPU, from nvidia-smi (None when unknown)."""
    gpus = candidates(listed_gpus())
    return gpus[0].free_mb * 2**20 if gpus and gpus[0].free_mb else None
