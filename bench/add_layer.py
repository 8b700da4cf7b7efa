"""What adding a layer costs: one atlas rendered, then a layer added, through real Snakemake,
with a folder of 2,000 real photos as the dataset examples (the 266 of bench/photos.py, each
also mirrored and cropped at three scales: 2,000 distinct images).

    python bench/add_layer.py                     # this checkout
    python bench/add_layer.py --also OLD_CHECKOUT # and another one, e.g. a git worktree of main

Per checkout, the second run's jobs (Snakemake's benchmark files), the examples scan's images/s
and FLOPs per image, and the scan projected to 50,000 images (an ImageNet validation folder) at
that rate. The ascents are cut short (steps, size): the scan and what follows it are measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.model import description  # noqa: E402

flops_to = description.of("vgg16", Path()).flops_to

FIRST = ["block1_conv2", "block3_conv1"]
ADDED = "block2_conv1"
CONFIG = ["filters=8", "steps=20", "size=64", "compare_classic=False", "dreams=[]", "examples_side=224"]
IMAGES, PROJECTED = 2000, 50_000


def folder(root: Path) -> Path:
    """2,000 distinct images from the real photos: each photo, mirrored, and centre crops."""
    out = root / "photos2000"
    if out.is_dir() and len(list(out.iterdir())) >= IMAGES:
        return out
    out.mkdir(parents=True, exist_ok=True)
    source = Path(subprocess.run([sys.executable, str(REPO / "bench" / "photos.py")], capture_output=True,
                                 text=True, check=True).stdout.strip())
    photos = sorted(p for p in source.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    n = 0
    for variant in range(8):
        for p in photos:
            if n == IMAGES:
                return out
            with Image.open(p) as im:
                im = im.convert("RGB")
                if variant % 2:
                    im = ImageOps.mirror(im)
                keep = (1.0, 0.8, 0.65, 0.5)[variant // 2]
                w, h = im.size
                box = (int(w * (1 - keep) / 2), int(h * (1 - keep) / 2), int(w * (1 + keep) / 2), int(h * (1 + keep) / 2))
                im.crop(box).save(out / f"{n:05d}.jpg", quality=90)
            n += 1
    return out


def snakemake(checkout: Path, workdir: Path, layers: list[str], photos: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(checkout / "Snakefile"), "-d", str(workdir),
                           "--cores", "2", "--config", f"layers=[{','.join(layers)}]", f"examples={photos}", *CONFIG],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    return time.perf_counter() - t0


def jobs_since(atlas: Path, since: float) -> dict[str, float]:
    """Seconds of each job Snakemake ran after ``since`` (its benchmark files' times)."""
    out = {}
    for tsv in sorted((atlas / "benchmarks").rglob("*.tsv")):
        if tsv.stat().st_mtime < since:
            continue
        with tsv.open() as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        out[f"{tsv.parent.name}:{tsv.stem}"] = float(row["s"])
    return out


def scan(atlas: Path, since: float) -> dict | None:
    """The examples scan of the second run, from its manifest (today's per layer, or the
    single one earlier versions wrote)."""
    paths = sorted((atlas / "manifests" / "examples").glob("*.json")) + [atlas / "manifests" / "examples.json"]
    for path in paths:
        if path.exists() and path.stat().st_mtime >= since:
            m = json.loads(path.read_text())
            s = m.get("scan", m)
            deepest = s.get("deepest") or max(m.get("layers", []) or [ADDED], key=lambda n: flops_to(n, 224))
            return {"layers": s.get("layers", m.get("layers")), "deepest": deepest,
                    "images_per_second": s["images_per_second"], "gflop_per_image": flops_to(deepest, 224) / 1e9}
    return None


def measure(checkout: Path, root: Path, photos: Path) -> dict:
    workdir = root / checkout.name
    first = snakemake(checkout, workdir, FIRST, photos)
    since = time.time()
    added = snakemake(checkout, workdir, [FIRST[0], ADDED, FIRST[1]], photos)
    jobs = jobs_since(workdir / "atlas", since)
    found = scan(workdir / "atlas", since)
    if found:
        found["projected_50000_min"] = round(PROJECTED / found["images_per_second"] / 60, 1)
    return {"checkout": str(checkout), "first_run_s": round(first, 1), "add_layer_run_s": round(added, 1),
            "jobs": jobs, "scan": found}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--also", type=Path, help="another checkout to measure the same way (e.g. the previous main)")
    p.add_argument("--root", type=Path, default=Path("/tmp/add-layer-bench"))
    args = p.parse_args()
    photos = folder(args.root)
    print(f"{len(list(photos.iterdir()))} images in {photos}; atlas {FIRST}, then {ADDED} added; {' '.join(CONFIG)}")
    for checkout in [REPO] + ([args.also.resolve()] if args.also else []):
        r = measure(checkout, args.root, photos)
        print(f"\n{r['checkout']}: first run {r['first_run_s']} s, adding {ADDED} {r['add_layer_run_s']} s")
        for job, seconds in sorted(r["jobs"].items()):
            print(f"  {job:32s} {seconds:8.1f} s")
        if r["scan"]:
            s = r["scan"]
            print(f"  examples scan: layers {s['layers']}, up to {s['deepest']}, {s['images_per_second']} images/s, "
                  f"{s['gflop_per_image']:.1f} GFLOP an image; 50,000 images: about {s['projected_50000_min']} min")


if __name__ == "__main__":
    main()
