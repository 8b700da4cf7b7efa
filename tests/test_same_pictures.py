"""The same config and seed give the same pictures: a small atlas rendered through a real
Snakemake run, compared file by file with the one an earlier commit rendered.

On the machine and stack the reference was made on (tests/golden/small-atlas.json names them)
every PNG and WebP must be byte-identical and every record equal. Elsewhere TensorFlow's kernels
round differently: the pictures must then be visibly the same (mean difference under 3 levels
of 255) and the records hold the same fields. Rewrite the reference, deliberately, with
``python tests/test_same_pictures.py ATLAS_FOLDER``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run

GOLDEN = REPO / "tests" / "golden"
CONFIG = GOLDEN / "small-atlas.yaml"
PICTURES = GOLDEN / "small-atlas"
RECORDS = GOLDEN / "small-atlas.json"
# What changes from run to run by nature: timings, versions, the process' clock.
VOLATILE = {"seconds", "versions", "started", "finished", "setup_seconds", "peak_memory_mb", "images_per_second"}


def machine() -> dict:
    import keras
    import PIL
    import tensorflow as tf

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    flags = next((l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")), "")
    return {"cpu": cpu, "cpu_flags": hashlib.sha256(flags.encode()).hexdigest()[:12],
            "machine": platform.machine(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "pillow": PIL.__version__}


def stable(x):
    if isinstance(x, dict):
        return {k: stable(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [stable(v) for v in x]
    return x


def pictures(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.suffix in (".png", ".webp") and not p.relative_to(root).as_posix().startswith("logs/"))


def records(root: Path) -> dict:
    """Every record a picture has beside it (filters, classic, examples, trust, dreams), stable fields."""
    return {p.relative_to(root).as_posix(): stable(json.loads(p.read_text()))
            for p in sorted(root.rglob("*.json"))
            if p.relative_to(root).parts[0] in ("filters", "classic", "examples", "trust", "dreams")}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, real_weights) -> Path:
    workdir = tmp_path_factory.mktemp("same")
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--configfile", str(CONFIG), "--config", "outdir=atlas"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas"


def test_the_same_files(rendered):
    assert pictures(rendered) == pictures(PICTURES)
    assert sorted(records(rendered)) == sorted(json.loads(RECORDS.read_text())["records"])


def test_the_same_pictures_and_records(rendered):
    golden = json.loads(RECORDS.read_text())
    same_stack = golden["machine"] == machine()
    got, want = records(rendered), golden["records"]
    for name in pictures(PICTURES):
        a, b = (rendered / name).read_bytes(), (PICTURES / name).read_bytes()
        if same_stack:
            assert a == b, f"{name} is not byte-identical to the reference"
        else:
            x, y = (np.asarray(Image.open(p).convert("RGB"), float) for p in (rendered / name, PICTURES / name))
            assert np.abs(x - y).mean() < 3, name
    for name, record in want.items():
        if same_stack:
            assert got[name] == record, name
        else:
            assert set(got[name]) == set(record), name


if __name__ == "__main__":  # python tests/test_same_pictures.py ATLAS: make it the reference
    atlas = Path(sys.argv[1])
    shutil.rmtree(PICTURES, ignore_errors=True)
    for name in pictures(atlas):
        (PICTURES / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(atlas / name, PICTURES / name)
    RECORDS.write_text(json.dumps({"machine": machine(), "records": records(atlas)}, indent=1, sort_keys=True) + "\n")
    print(f"{len(pictures(atlas))} pictures and {len(records(atlas))} records written to {GOLDEN}")
