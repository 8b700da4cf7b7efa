"""Publish a rendered atlas to a ``gh-pages`` branch with ghp-import, the ecosystem's tool.

Logs, Snakemake benchmark files and job manifests stay behind: they are provenance for the
person who ran the pipeline, not part of the site.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import ghp_import

from ..errors import AtlasError

LEFT_BEHIND = ("logs", "benchmarks", "manifests", "*.tmp")


def publish(outdir: str | Path, remote: str = "origin", branch: str = "gh-pages",
            push: bool = True, message: str | None = None) -> Path:
    """Commit ``outdir``'s site to ``branch`` of the git repository in the current folder
    (and push it to ``remote``). Returns the folder that was published."""
    outdir = Path(outdir)
    if not (outdir / "index.html").exists():
        raise AtlasError(f"publish: {outdir}/index.html does not exist; render the atlas first "
                         "(snakemake --cores all)")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(outdir, site, ignore=shutil.ignore_patterns(*LEFT_BEHIND))
        try:
            ghp_import.ghp_import(str(site), remote=remote, branch=branch, push=push, nojekyll=True,
                                  mesg=message or f"Publish the VGG16 atlas from {outdir}")
        except ghp_import.GhpError as exc:
            raise AtlasError(f"publish: {exc.message.strip().splitlines()[-1]} (run it inside "
                             f"the git repository to publish from; remote {remote!r})") from None
    return outdir
