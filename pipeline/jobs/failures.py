"""After a failed run: one line per failure, read from Snakemake's log, saying what to do.

Snakemake's own report of a failed job is a screenful (the whole shell command, the sbatch
call, the job's settings). The Snakefile's ``onerror`` prints these lines after it: which
job, why in the job's own words (the last line of its log), and how to go on.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

SBATCH = re.compile(r"sbatch: error: (?:Batch job submission failed: )?([^'\n]+)")
STATUS = re.compile(r"SLURM status is: '?([A-Z_]+)'?")
BLOCK = re.compile(r"^Error in rule (\S+):\n(.*?)(?=^\S|\Z)", re.M | re.S)
# How Snakemake says a job's shell ended by a signal: the shell itself killed, or its child
# (the job) killed and the shell passing on 128 + the signal's number.
KILLED = re.compile(r"died with <Signals\.(\w+): \d+>|returned non-zero exit status (\d+)")

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
        elif log and (killed := _signal(log_text, log.group(1))):
            last = _last_error(Path(workdir, log.group(1)))
            why = (f"killed by {killed}, not failed: something stopped it (a kill, a time limit, the "
                   f"machine out of memory){'; its last line: ' + last if last else ''}; run the same "
                   "command again to resume it")
        else:
            why = _last_error(Path(workdir, log.group(1))) if log else None
            why = why or (f"SLURM status {status.group(1)}" if status else "see its log")
        lines.append(f"error: rule {rule}{where}: {why}")
    if lines:
        lines.append("error: fix the cause and run the same command again: finished jobs, and the "
                     "filters an interrupted ascent already wrote, are kept")
    return lines


def _signal(log_text: str, log: str) -> str | None:
    """The signal that ended the job writing ``log``, by Snakemake's report of its command."""
    for line in log_text.splitlines():
        if log in line and (m := KILLED.search(line)):
            if m.group(1):
                return m.group(1)
            code = int(m.group(2))
            if code > 128 and code - 128 in signal.Signals._value2member_map_:
                return signal.Signals(code - 128).name
    return None


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
