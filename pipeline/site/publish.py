"""Publish a rendered atlas to a ``gh-pages`` branch with ghp-import, the ecosystem's tool.

Logs, Snakemake benchmark files and job manifests stay behind: they are provenance for the
person who ran the pipeline, not part of the site.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import ghp_import

from ..errors import AtlasError
from ..output import layout

LEFT_BEHIND = ("logs", "benchmarks", "manifests", "*.tmp", layout.MARKER)


def publish(outdir: str | Path, remote: str | None, branch: str = "gh-pages",
            push: bool = True, message: str | None = None) -> Path:
    """Commit ``outdir``'s site to ``branch`` of the git repository in the current folder
    (and push it to ``remote``, which must be named: a fresh clone's ``origin`` is the
    repository it was cloned from, not necessarily yours). Returns the folder published."""
    outdir = Path(outdir)
    if not (outdir / "index.html").exists():
        raise AtlasError(f"publish: {outdir}/index.html does not exist; render the atlas first "
                         "(snakemake --cores all)")
    if push and not remote:
        raise AtlasError("publish: say where to push: --remote origin (or publish_remote in config.yaml); "
                         "--no-push only commits the gh-pages branch")
    where = f"and pushing it to {remote} ({_url(remote)})" if push else "without pushing (--no-push)"
    print(f"publish: committing {outdir} to branch {branch} {where}", file=sys.stderr, flush=True)
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


def _url(remote: str) -> str:
    out = subprocess.run(["git", "remote", "get-url", remote], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "not a remote of this repository"
