"""The preflight every GPU job shares: its device, its threads, its weights, its versions."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import psutil

from .. import __version__, quiet
from ..config import settings
from ..images.bands import Bands
from ..model import weights
from ..model.description import Network
from ..optvis import backend
from . import device


def say(message: str) -> None:
    """One line of the job's log (its stderr, which the rule sends to the log file)."""
    print(message, file=sys.stderr, flush=True)


class Terminal:
    """The job's log: every line to stderr (the rule sends it to the log file), and at most one
    every ``every`` seconds to stdout, which Snakemake shows in the terminal. A job's progress
    lines come every 10 to 30 s (optvis/render.EVERY), so the terminal hears from a running job
    about once a minute: every job that takes minutes talks through one."""

    def __init__(self, every: float = 45.0):
        self.every, self.last = every, -float("inf")

    def write(self, text: str, always: bool = False) -> None:
        sys.stderr.write(text)
        if text.strip() and (always or time.monotonic() - self.last >= self.every):
            self.last = time.monotonic()
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def say(self, line: str) -> None:
        """A line the terminal always shows: the job's start and end."""
        self.write(line + "\n", always=True)
        self.flush()

    def flush(self) -> None:
        sys.stderr.flush()


def prepare_weights(s: settings.WeightsSetting, net: Network | None = None) -> weights.WeightsFile:
    """The weights file of the job's network (``net``, described again if not given), fetched
    and converted if needed."""
    net = net or s.network()
    resolved = weights.resolve(s.name, weights.cache_dir(s.cache), s.preprocess, net)
    weights.ensure(resolved, s.name, net, say)
    return resolved


def versions() -> dict:
    """What drew a picture: written into every record."""
    return {"pipeline": __version__, **backend.versions()}


@dataclass
class Preflight:
    """What a job knows once it has started: where it runs, its network and weights, when its
    process began."""

    where: str
    network: Network
    weights: weights.WeightsFile
    born: float  # epoch seconds: imports count towards a job's start-up
    bands: Bands = Bands()  # the network's input bands, and how photos become them

    def base(self):
        """The network with these weights (built once per process)."""
        with quiet.native():  # Keras' file utilities start TensorFlow where it is installed
            return weights.load_base(self.weights, self.network)

    def precision(self, setting: str) -> tuple[str, str]:
        """The precision a job computes in, and why. ``auto`` is decided here, on the machine
        the job runs on: bfloat16 where its processor computes it natively, else float32."""
        if setting != "auto":
            return setting, "as set"
        if self.where.startswith("CPU"):
            flag = device.cpu_bfloat16()
            return ("bfloat16", f"auto: this CPU computes bfloat16 natively ({flag})") if flag else \
                ("float32", "auto: this CPU has no native bfloat16")
        if backend.gpu_bfloat16():
            return "bfloat16", "auto: this GPU has bfloat16 tensor cores"
        return "float32", "auto: this GPU has no bfloat16 tensor cores"

    def memory_bytes(self) -> int:
        """Memory a batch may plan on: $VGG16_ATLAS_MEMORY_GB, else the GPU's free memory, else
        the host's."""
        if os.environ.get("VGG16_ATLAS_MEMORY_GB"):
            return int(float(os.environ["VGG16_ATLAS_MEMORY_GB"]) * 2**30)
        if not self.where.startswith("CPU"):
            free = device.free_memory_bytes()
            if free:
                return free
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def preflight(runtime: settings.Runtime, threads: int | None = None) -> Preflight:
    """Choose the device, start the backend on it (with ``threads`` CPU threads), say where,
    and make sure the weights exist."""
    device.choose(runtime.device)
    where = device.where(runtime.device, backend.start(threads), backend.NAME)
    say(f"device: {where}")
    say("backend: " + ", ".join(f"{k} {v}" for k, v in backend.versions().items() if k != "backend"))
    net = runtime.weights.network()
    return Preflight(where, net, prepare_weights(runtime.weights, net), psutil.Process().create_time(),
                     Bands.of(net.channels, runtime.weights.photo_bands))
