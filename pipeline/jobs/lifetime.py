"""A job lives no longer than the Snakemake that started it.

On SIGTERM (what ``kill``, ``timeout`` without its process group, or a login node's limit
sends) Snakemake only stops scheduling and waits for its running jobs, which can take hours.
:func:`forward_sigterm`, installed when the run starts, passes the signal on to every job
first. A job whose Snakemake died outright (``kill -9``) notices within seconds
(:func:`watch`) and ends too. Either way a job keeps what it finished: every file is written
atomically, and an ascent batch resumes from its last saved step.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil

PARENT = "VGG16_ATLAS_SNAKEMAKE_PID"  # set by the Snakefile for the jobs of a local run


def forward_sigterm() -> None:
    """In Snakemake's main process: on SIGTERM, terminate every job first, then let Snakemake's
    own handler (a graceful stop) run, which now has nothing left to wait for."""
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        for child in psutil.Process().children(recursive=True):
            try:
                child.terminate()
            except psutil.NoSuchProcess:
                pass
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)


def watch(every: float = 2.0) -> None:
    """In a job: end this process (SIGTERM, as a kill would) once the Snakemake that started it is
    gone. Nothing to watch when no Snakemake started it (a command typed by hand, a cluster job)."""
    pid = os.environ.get(PARENT)
    if not pid or not pid.isdigit():
        return

    def look():
        while psutil.pid_exists(int(pid)):
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=look, daemon=True, name="snakemake-watch").start()
