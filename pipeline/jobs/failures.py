"""After a failed run: one line per failure, read from Snakemake's log, saying what to do.

Snakemake's own report of a failed job is a screenful (the whole shell command, the sbatch
call, the job's settings). The Snakefile's ``onerror`` prints these lines after it: which
job, why in the job's own words (the last line of its log), and how to go on.
"""

from __future__ import annotations

import re
from pathlib import Path

SBATCH = re.compile(r"sbatch: error: (?:Batch job submission failed: )?([^'\n]+)")
STATUS = re.compile(r"SLURM status is: '?([A-Z_]+)'?")
BLOCK = re.compile(r"^Error in rule (\S+):\n(.*?)(?=^\S|\Z)", re.M | re.S)

FIT = ("lower set-threads or mem_mb in profiles/slurm so one job fits a node "
       "(sinfo -o '%P %c %m %G' lists them)")


def explain(log_text: str, workdir: str | Path = ".") -> list[str]:
    """One line per failed job of a Snakemake log, and a last line on how to go on."""
    lines = []
    for rule, block in BLOCK.findall(log_text):
        log = re.search(r"^\s+log: ([^\s,]+)", block, re.M)
        where = f" ({log.group(1)})" if log else ""
        refused, status = SBATCH.search(block), STATUS.search(block)
        if refused:
            why = f"SLURM refused the job: {refused.group(1).strip()}; {FIT}"
        elif status and status.group(1) == "TIMEOUT":
            why = "SLURM stopped it at its time limit; raise runtime for this rule (--set-resources)"
        else:
            why = _last_error(Path(workdir, log.group(1))) if log else None
            why = why or (f"SLURM status {status.group(1)}" if status else "see its log")
        lines.append(f"error: rule {rule}{where}: {why}")
    if lines:
        lines.append("error: fix the cause and run the same command again: finished jobs, and the "
                     "filters an interrupted ascent already wrote, are kept")
    return lines


def _last_error(log: Path) -> str | None:
    """The job's own one-line error, or the last line of a traceback."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return None
    errors = [line for line in text if line.startswith("error: ")]
    if errors:
        return errors[-1][len("error: "):]
    return text[-1].strip() if text else None
