"""Dataset examples on the real weights: a planted winner, streaming memory, bad input, reruns."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import REPO, last_line, renderer, run
from pipeline import config
from pipeline.config import settings
from pipeline.images import photos
from pipeline.images.folder import sources
from pipeline.jobs.examples import find_examples
from pipeline.output import layout
from pipeline.errors import AtlasError
from pipeline.output.record import TILE, FilterExamples


def photo_folder(folder: Path, n: int, seed: int = 0) -> Path:
    """``n`` real photos (crops of the skimage ones) of mixed sizes and formats, in subfolders."""
    rng = np.random.default_rng(seed)
    shots = photos.scorecard_photos(256)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(120, 256, 2))
        img = Image.fromarray(shots[i % len(shots)]).resize((w, h))
        path = folder / f"part{i % 3}" / f"img{i:04d}.{('jpg', 'png', 'webp')[i % 3]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
    return folder


def test_planted_picture_comes_out_first_and_its_box_covers_it(tmp_path, base, real_weights):
    layer_name, f, paste = "block5_conv1", 40, 64
    picture = renderer(base, layer_name, method="fourier", size=paste).render([f], 64)[0].image
    folder = photo_folder(tmp_path / "photos", 6)
    host = np.array(Image.fromarray(photos.scorecard_photos(256)[3]).resize((300, 224)))
    x0, y0 = 150, 90
    host[y0:y0 + paste, x0:x0 + paste] = picture
    Image.fromarray(host).save(folder / "planted.png")
    e = settings.Examples(str(tmp_path / "atlas"), str(folder), "x", 224, 3, False, {layer_name: [f]},
                          settings.Runtime("cpu", "tensorflow", settings.WeightsSetting("torchvision-imagenet", None, "auto")))
    manifest = json.loads(find_examples(e)[0].read_text())
    assert manifest["images"] == 7 and manifest["skipped"] == []
    found = FilterExamples.read(layout.example_files(e.outdir, layer_name, f)[1])
    first = found.examples[0]
    assert first.image == "planted.png"
    left, top, right, bottom = first.box
    assert left <= x0 and top <= y0 and right >= x0 + paste and bottom >= y0 + paste
    assert [x.activation for x in found.examples] == sorted((x.activation for x in found.examples), reverse=True)
    with Image.open(layout.example_files(e.outdir, layer_name, f)[0]) as mosaic:
        assert mosaic.size == (2 * TILE, 2 * TILE)  # 3 tiles, 2 columns


def run_examples(tmp_path: Path, folder: Path) -> dict:
    cfg = {"outdir": str(tmp_path / "atlas"), "layers": ["block1_conv1", "block5_conv3"], "filters": 2,
           "examples": str(folder), "examples_side": 96, "device": "cpu"}
    path = tmp_path / "examples.yaml"
    tmp_path.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    proc = run([sys.executable, "-m", "pipeline", "examples", "--config", str(path)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(Path(layout.examples_manifest(cfg["outdir"], "block5_conv3")).read_text()) | {"log": proc.stderr}


def test_streaming_keeps_memory_flat(tmp_path):
    few = run_examples(tmp_path / "few", photo_folder(tmp_path / "20", 20))
    many = run_examples(tmp_path / "many", photo_folder(tmp_path / "200", 200))
    assert few["images"] == 20 and many["images"] == 200
    # Ten times the images, the same peak: only the batch and the running top K are held.
    assert many["peak_memory_mb"] < few["peak_memory_mb"] * 1.1 + 50, (few["peak_memory_mb"], many["peak_memory_mb"])
    assert "images/s" in many["log"] and "left" in many["log"]


def test_corrupt_and_truncated_files_are_skipped_and_counted(tmp_path):
    folder = photo_folder(tmp_path / "photos", 4)
    (folder / "garbage.png").write_bytes(b"not an image at all")
    good = (folder / "part0" / "img0000.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])
    out = run_examples(tmp_path, folder)
    assert out["images"] == 4 and sorted(out["skipped"]) == ["garbage.png", "truncated.jpg"]
    assert "skipped 2 unreadable or truncated files" in out["log"]


def test_links_outside_the_folder_are_refused(tmp_path):
    folder = photo_folder(tmp_path / "photos", 2)
    outside = photo_folder(tmp_path / "elsewhere", 1) / "part0" / "img0000.jpg"
    (folder / "inside-link.jpg").symlink_to(folder / "part0" / "img0000.jpg")
    (folder / "outside-link.jpg").symlink_to(outside)
    found, refused = sources(str(folder))
    assert [s.name for s in found] == ["inside-link.jpg", "part0/img0000.jpg", "part1/img0001.png"]
    assert refused == 1


def bad_folder(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "empty":
        path.mkdir()
    elif kind == "a-file.png":
        path.write_bytes(b"x")
    elif kind == "unreadable":
        path.mkdir()
        (path / "x.jpg").write_bytes(b"not a JPEG")
    return path


@pytest.mark.parametrize("kind,says", [
    ("missing", "does not exist"), ("empty", "holds no image files"),
    ("a-file.png", "is a file, not a folder"), ("unreadable", "none of its 1 image files can be read"),
])
def test_bad_folders_are_one_line_before_any_compute(tmp_path, kind, says):
    folder = bad_folder(tmp_path, kind)
    with pytest.raises(AtlasError, match=says) as err:
        config.load(overrides={"examples": str(folder)})
    assert str(folder) in str(err.value) and "\n" not in str(err.value)
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "-n", "--config", f"examples={folder}"])
    assert proc.returncode != 0 and says in last_line(proc.stderr)
    assert not (tmp_path / "atlas").exists()


def test_new_images_rerun_only_the_examples_and_the_pages(tmp_path, real_weights):
    folder = photo_folder(tmp_path / "photos", 3)
    good = (folder / "part0" / "img0000.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])  # a bad file is news, not a crash
    args = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
            "--cores", "2", "--config", "layers=[block1_conv1]", "filters=2", "steps=2", "size=32",
            "compare_classic=false", "dreams=[]", f"examples={folder}", "examples_side=64"]
    proc = run(args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "atlas" / "examples" / "block1_conv1" / "0001.webp").exists()
    said = [line for line in proc.stderr.splitlines() if line.startswith("examples: 1 file of")]
    assert said and f"{folder} could not be read and was skipped: truncated.jpg (image file is truncated" in said[0]
    page = (tmp_path / "atlas" / "index.html").read_text()
    assert "Photos that could not be read" in page and "<code>truncated.jpg</code>: image file is truncated" in page
    assert "Nothing to be done" in run(args + ["-n"]).stdout + run(args + ["-n"]).stderr
    photo_folder(tmp_path / "more", 1, seed=5)
    os.replace(tmp_path / "more" / "part0" / "img0000.jpg", folder / "new.jpg")
    plan = run(args + ["-n", "--quiet", "rules"])
    planned = {line.split()[0] for line in plan.stdout.splitlines() if line.strip()}
    assert {"examples", "trust", "pages", "site"} <= planned
    assert not planned & {"ascend", "grid", "twins", "weights"}, plan.stdout
