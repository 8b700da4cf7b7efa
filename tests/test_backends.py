"""The atlas on Keras' JAX backend beside TensorFlow's, through real Snakemake runs on the real
weights: the same files, pictures as strong, activations within 15% of TensorFlow's."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import REPO, run

pytest.importorskip("jax")  # requirements-jax.txt; CI installs it

ATLAS = ["layers=[block1_conv2,block3_conv1]", "filters=2", "size=64", "compare_classic=false",
         "dreams=[]", "examples=none"]


def render(workdir: Path, *config: str) -> Path:
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--config", *ATLAS, *config])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas"


def records(atlas: Path) -> dict[str, dict]:
    return {p.relative_to(atlas).as_posix(): json.loads(p.read_text())
            for p in sorted((atlas / "filters").rglob("*.json"))}


@pytest.fixture(scope="module")
def both(tmp_path_factory, real_weights) -> dict[str, Path]:
    return {name: render(tmp_path_factory.mktemp(name), f"backend={name}") for name in ("tensorflow", "jax")}


def test_the_same_files_drawn_by_each_backend(both):
    tf, jax = (sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()
                      and not p.relative_to(a).as_posix().startswith(("logs/", "benchmarks/")))
               for a in (both["tensorflow"], both["jax"]))
    assert tf == jax
    for name, rec in records(both["jax"]).items():
        assert rec["versions"]["backend"] == "jax" and "jax" in rec["versions"], name
    assert "backend: jax " in (both["jax"] / "logs" / "ascend" / "block1_conv2-0000.log").read_text()


NATIVE = ("WARNING: All log messages", "I0000", "W0000", "E0000", "oneDNN", "cuda drivers", "cuInit")


def test_every_job_log_is_quiet_from_its_first_line(both):
    """TensorFlow's and XLA's native start-up lines stay out of every job's log, on both backends."""
    for name, atlas in both.items():
        logs = sorted((atlas / "logs").rglob("*.log"))
        assert len(logs) >= 5, logs  # ascents, twins, grids, pages, site
        for log in logs:
            noisy = [line for line in log.read_text().splitlines() if any(n in line for n in NATIVE)]
            assert not noisy, (name, log.name, noisy[:2])


def test_jax_pictures_are_as_strong_as_tensorflows(both):
    tf, jax = records(both["tensorflow"]), records(both["jax"])
    for name, rec in jax.items():
        assert rec["scorecard"]["strength"] > 1, (name, rec["scorecard"])
        ratio = rec["activation"]["png"] / tf[name]["activation"]["png"]
        assert abs(ratio - 1) <= 0.15, (name, ratio)


def test_each_backend_repeats_itself(both, tmp_path):
    again = render(tmp_path, "backend=jax", "layers=[block1_conv2]")
    for f in ("0000", "0001"):
        name = Path("filters") / "block1_conv2" / f"{f}.png"
        assert (again / name).read_bytes() == (both["jax"] / name).read_bytes(), name


def test_switching_the_backend_redraws_the_pictures(both, tmp_path):
    """A record says which backend drew it; a rerun on the other one does not keep it."""
    from pipeline.output.record import FilterRecord

    rec = FilterRecord.read(both["tensorflow"] / "filters" / "block1_conv2" / "0000.json")
    assert rec.versions["backend"] == "tensorflow"
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                "-d", str(both["tensorflow"].parent), "-n", "--cores", "2", "--config", *ATLAS, "backend=jax"])
    assert proc.returncode == 0 and "ascend" in proc.stdout, proc.stderr[-2000:]


def test_jax_missing_is_one_line_naming_the_file_to_install(monkeypatch):
    import importlib.util

    from pipeline import config
    from pipeline.errors import AtlasError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    with pytest.raises(AtlasError) as err:
        config.load(overrides={"backend": "jax"})
    assert "requirements-jax.txt" in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_backend_is_the_usual_one_line(tmp_path):
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                "--cores", "2", "--config", "backend=torch"])
    assert proc.returncode != 0
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "backend = 'torch' is not allowed" in errors[0], proc.stderr[-2000:]


def test_the_gpu_check_runs_its_tiny_slice_on_the_cpu(tmp_path, real_weights):
    """bench/gpu.py as a GPU box runs it, from float16 weights and no network, on the CPU: both
    precisions, the rerun and warm-cache checks and the other jobs, its JSON where OUT says."""
    packed = tmp_path / "vgg16-f16.npz"
    proc = run([sys.executable, "bench/gpu.py", "--pack-weights", str(packed)])
    assert proc.returncode == 0 and packed.stat().st_size < 30 * 2**20, proc.stderr[-2000:]
    out = tmp_path / "out"
    out.mkdir()
    proc = run([sys.executable, "bench/gpu.py", "--cpu", "--weights-f16", str(packed)], env={**os.environ, "OUT": str(out)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [l.split(" | ") for l in proc.stdout.splitlines() if l.startswith("| block")]
    assert [(r[0], r[1]) for r in rows] == [("| block1_conv2", "float32"), ("| block1_conv2", "bfloat16")]
    assert all(float(r[6]) > 0 for r in rows)  # seconds per step, measured
    result = json.loads((out / "gpu-check.json").read_text())
    assert result["checks"]["rerun_identical"] == {"same": 2, "of": 2}  # a new process, the same bytes
    assert all(result["checks"][kind]["ok"] for kind in ("examples", "twins", "trust")), result["checks"]
    assert set(result["projection_seconds"]) == {"float32", "bfloat16"}
    assert "Projection of the whole default atlas" in proc.stdout
