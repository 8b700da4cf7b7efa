"""Real photos to measure the trust scores on: a few hundred, from the package registries,
checksummed like the weights, unpacked into the cache and never committed (docs/trust.md,
"Real photos").

- Debian's ``gcompris-qt-data`` 3.1-2 (GCompris' activity data, 44 MB): 246 photographs of
  tools, household objects, fish, monuments, buildings and energy plants, and wild and farm
  animals, as WebP inside Qt resource files. Each photo's own licence is in the package's
  ``debian/copyright`` (mostly CC BY-SA or CC BY from Wikimedia Commons, some public domain or
  GPL); the drawings and paintings of the package are left out.
- PyPI's ``foolbox`` 3.3.4 wheel (MIT, 1.7 MB): 20 ImageNet validation images, 224 px.

    python bench/photos.py                   # fetch once; prints the folder (~/.cache/vgg16-atlas/photos)
    snakemake --cores all --config examples=$(python bench/photos.py)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

DEB = ("gcompris-qt-data", "3.1-2", "gcompris-qt-data_3.1-2_all.deb",
       "e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f")
WHEEL = ("foolbox", "3.3.4", "foolbox-3.3.4-py3-none-any.whl",
         "11049d515d38e765e206a73ace9cc648b81a0d6d1da9ad9057e149ee117989cb")
# The Qt resource files and the folders in them that hold photographs (not drawings).
PHOTOS = {
    "categorization": ("categorization/resource/images/tools", "categorization/resource/images/renewable",
                       "categorization/resource/images/fishes", "categorization/resource/images/monuments",
                       "categorization/resource/images/others"),
    "explore_monuments": ("explore_monuments/resource/",),
    "explore_world_animals": ("explore_world_animals/resource/animals",),
    "explore_farm_animals": ("explore_farm_animals/resource/animals",),
    "erase": ("erase/resource",),
}
DONE = ".complete"  # written last: a folder without it was interrupted and is fetched again


def cache() -> Path:
    raw = os.environ.get("VGG16_ATLAS_CACHE") or "~/.cache/vgg16-atlas"
    return Path(raw).expanduser() / "photos"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download(kind: str, spec: tuple, tmp: Path) -> Path:
    """The archive, by apt-get (a Debian package) or pip (a wheel), checked against its sha256."""
    name, version, file, digest = spec
    if kind == "deb":
        command = ["apt-get", "download", f"{name}={version}"]
    else:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   f"{name}=={version}", "-d", str(tmp)]
    proc = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
    got = tmp / file
    if proc.returncode != 0 or not got.exists():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"photos: could not fetch {name} {version} ({last}); "
                         + ("run apt-get update first" if kind == "deb" else "is PyPI reachable?"))
    if sha256(got) != digest:
        raise SystemExit(f"photos: {file} has sha256 {sha256(got)}, expected {digest}")
    return got


def deb_data(deb: Path) -> tarfile.TarFile:
    """A .deb's data archive: an ar archive whose ``data.tar.xz`` member holds the files."""
    raw = deb.read_bytes()
    at = 8  # "!<arch>\n"
    while at < len(raw):
        name, size = raw[at:at + 16].decode().strip(), int(raw[at + 48:at + 58])
        if name.rstrip("/").startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(raw[at + 60:at + 60 + size]))
        at += 60 + size + size % 2
    raise SystemExit(f"photos: {deb.name} holds no data archive")


def rcc_files(buf: bytes):
    """(path, bytes) of every file in a Qt resource file (format 1 to 3; GCompris' are stored
    uncompressed, zlib is read too)."""
    if buf[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", buf[4:20])
    node = 14 if version == 1 else 22

    def name(offset: int) -> str:
        n, = struct.unpack(">H", buf[names + offset:names + offset + 2])
        return buf[names + offset + 6:names + offset + 6 + 2 * n].decode("utf-16-be")

    stack = [(0, "")]
    while stack:
        index, path = stack.pop()
        at = tree + index * node
        offset, flags = struct.unpack(">IH", buf[at:at + 6])
        here = path + "/" + name(offset) if index else ""
        if flags & 2:  # a folder: its children are consecutive nodes
            count, first = struct.unpack(">II", buf[at + 6:at + 14])
            stack += [(first + i, here) for i in range(count)]
            continue
        start = data + struct.unpack(">I", buf[at + 10:at + 14])[0]
        size, = struct.unpack(">I", buf[start:start + 4])
        blob = buf[start + 4:start + 4 + size]
        yield here, (zlib.decompress(blob[4:]) if flags & 1 else blob)


def unpack(deb: Path, wheel: Path, dest: Path) -> int:
    """The photos of both archives into ``dest``; how many."""
    count = 0
    data = deb_data(deb)
    for member in data.getmembers():
        stem = Path(member.name).stem
        if member.name.endswith(".rcc") and stem in PHOTOS:
            for path, blob in rcc_files(data.extractfile(member).read()):
                if path.endswith((".webp", ".jpg", ".png")) and any(f"/activities/{p}" in path for p in PHOTOS[stem]):
                    out = dest / "gcompris" / path.split("/activities/", 1)[1].replace("/resource", "")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(blob)
                    count += 1
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith("foolbox/data/imagenet_") and name.endswith(".jpg"):
                (dest / "foolbox").mkdir(parents=True, exist_ok=True)
                (dest / "foolbox" / Path(name).name).write_bytes(zf.read(name))
                count += 1
    return count


def fetch(folder: Path | None = None) -> Path:
    """The photos' folder, fetched and unpacked once."""
    folder = folder or cache()
    if (folder / DONE).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        tmp = Path(tmp)
        print(f"photos: fetching {DEB[0]} {DEB[1]} (Debian, 44 MB) and {WHEEL[0]} {WHEEL[1]} (PyPI, once)",
              file=sys.stderr)
        n = unpack(download("deb", DEB, tmp), download("wheel", WHEEL, tmp), tmp / "photos")
        (tmp / "photos" / DONE).write_text(f"{n} photos from {DEB[2]} and {WHEEL[2]}\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp / "photos", folder)
    return folder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dest", type=Path, help="default: the cache (~/.cache/vgg16-atlas/photos)")
    print(fetch(p.parse_args().dest))


if __name__ == "__main__":
    main()
