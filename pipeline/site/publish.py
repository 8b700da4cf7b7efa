"""Publish a rendered atlas to a ``gh-pages`` branch with ghp-import, the ecosystem's tool.

What is published is the site the network page shows: its layers, dreams and classes
(``manifests/site.json``). Layers rendered earlier and no longer in the config stay in the
folder, untouched, but are not published: no page there would link to them. Logs, Snakemake's
benchmark and bookkeeping files and the job manifests stay behind too: they are provenance for
the person who ran the pipeline, not part of the site. Publishing what the branch already holds
makes no commit (and says so); each commit's message names the atlas, the commit of the project
that drew it and the day.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import ghp_import

from ..errors import AtlasError
from ..output import layout

LEFT_BEHIND = ("logs", "benchmarks", "manifests", "*.tmp", ".snakemake_timestamp", layout.MARKER)
# Who commits the gh-pages branch where git knows nobody (no user.name or user.email): said in
# one line, and docs/outputs.md names it.
FALLBACK_AUTHOR = ("VGG16 Atlas", "vgg16-atlas@localhost")


def publish(outdir: str | Path, remote: str | None, branch: str = "gh-pages",
            push: bool = True, message: str | None = None) -> list[str]:
    """Commit ``outdir``'s site to ``branch`` of the git repository in the current folder
    (and push it to ``remote``, which must be named: a fresh clone's ``origin`` is the
    repository it was cloned from, not necessarily yours). Where the branch already holds
    exactly this site, nothing is committed. Every line it says goes to stderr: nothing is
    left for the command to print."""
    outdir = Path(outdir)
    if not (outdir / "index.html").exists():
        raise AtlasError(f"publish: {outdir}/index.html does not exist; render the atlas first "
                         "(snakemake --cores all)")
    if push and not remote:
        raise AtlasError("publish: say where to push: --remote origin (or publish_remote in config.yaml); "
                         "--no-push only commits the gh-pages branch")
    shown = _shown(outdir)
    where = f"and pushing it to {remote} ({_url(remote)})" if push else "without pushing (--no-push)"
    print(f"publish: committing {outdir} to branch {branch} {where}", file=sys.stderr, flush=True)
    others = sorted(set(_layers_in(outdir)) - set(shown["layers"]))
    if others:
        print(f"publish: {', '.join(others)} rendered in {outdir} but not on its network page (not in the "
              "config): kept there, not published", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(outdir, site, ignore=_not_published(outdir, shown, set(others)))
        (site / ".nojekyll").touch()  # what ghp-import adds (nojekyll), so that the trees compare
        held = _tree(f"{branch}^{{tree}}")
        if held and held == _site_tree(site, Path(tmp) / "index"):
            print(f"publish: {branch} already holds this site (commit {_tree(branch)[:12]}); nothing to "
                  f"commit{', pushing it as it is' if push else ''}", file=sys.stderr, flush=True)
            if push:
                _git("push", remote, branch)
            return []
        text = message or _message(shown, outdir)
        try:
            with _author():
                ghp_import.ghp_import(str(site), remote=remote, branch=branch, push=push, nojekyll=True, mesg=text)
        except ghp_import.GhpError as exc:
            raise AtlasError(f"publish: {exc.message.strip().splitlines()[-1]} (run it inside "
                             f"the git repository to publish from; remote {remote!r})") from None
    print(f"publish: committed {_tree(branch)[:12]} to {branch}: {text}", file=sys.stderr)
    return []


def _message(shown: dict, outdir: Path) -> str:
    """The commit's message: the atlas' title, its layers, the project commit that drew it, the day."""
    layers = len(shown["layers"])
    return (f"Publish {shown.get('title') or outdir}: {layers} layer{'s' if layers != 1 else ''}, drawn by "
            f"vgg16-atlas {_project_commit()}, {date.today().isoformat()}")


def _project_commit() -> str:
    """The commit of this project's checkout (its short hash, '+' where it has uncommitted
    changes), or 'outside git'."""
    here = Path(__file__).resolve().parents[2]
    head = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "outside git"
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head.stdout.strip() + ("+" if dirty else "")


def _tree(rev: str) -> str:
    """The hash git gives ``rev`` in the repository here, or "" where there is none."""
    out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", rev], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def _site_tree(site: Path, index: Path) -> str:
    """The tree hash a commit of ``site`` would have, worked out with an index of its own."""
    gitdir = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], capture_output=True, text=True)
    if gitdir.returncode != 0:
        return ""
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    git = ["git", f"--git-dir={gitdir.stdout.strip()}", f"--work-tree={site}"]
    subprocess.run(git + ["add", "-A", "."], cwd=site, env=env, capture_output=True, check=True)
    return subprocess.run(git + ["write-tree"], cwd=site, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def _git(*args: str) -> None:
    proc = subprocess.run(["git", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AtlasError(f"publish: git {' '.join(args)} failed ({last})")


def _shown(outdir: Path) -> dict:
    try:
        return json.loads(Path(layout.site_manifest(outdir)).read_text())
    except (OSError, ValueError):
        raise AtlasError(f"publish: {layout.site_manifest(outdir)} is missing; render the network page again "
                         "(snakemake --cores all)") from None


def _layers_in(outdir: Path) -> list[str]:
    return [p.name for p in Path(outdir, "filters").iterdir() if p.is_dir()] if Path(outdir, "filters").is_dir() else []


def _not_published(outdir: Path, shown: dict, others: set[str]):
    """copytree's ignore: what stays behind (LEFT_BEHIND), and every file or folder named after
    a layer (``others``), dream or class the network page does not show."""
    named = {"dreams": set(shown["dreams"]), "classes": set(shown["classes"])}
    behind = shutil.ignore_patterns(*LEFT_BEHIND)

    def ignore(folder: str, names: list[str]) -> set[str]:
        kind = Path(folder).name
        out = set(behind(folder, names)) | {n for n in names if n.split(".")[0] in others}
        if kind in named and Path(folder).parent == Path(outdir):
            out |= {n for n in names if n.split(".")[0] not in named[kind]}
        if Path(folder) == Path(outdir):  # dreams.html, classes.html: only with a dream or class shown
            shown_pages = layout.extra_pages(bool(shown["dreams"]), bool(shown["classes"]))
            out |= {n for n in layout.extra_pages(True, True) if n not in shown_pages}
        return out

    return ignore


@contextlib.contextmanager
def _author():
    """Commit as git's identity where there is one, else as FALLBACK_AUTHOR, said in one line
    (ghp-import reads GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL before git's config)."""
    keys = ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    saved = {key: os.environ.get(key) for key in keys}
    name = saved["GIT_COMMITTER_NAME"] or _git_config("user.name")
    email = saved["GIT_COMMITTER_EMAIL"] or _git_config("user.email")
    if not (name and email):
        name, email = name or FALLBACK_AUTHOR[0], email or FALLBACK_AUTHOR[1]
        print(f"publish: git has no user.name or user.email here; committing as {name} <{email}> "
              "(git config user.name/user.email to sign it yourself)", file=sys.stderr)
    os.environ.update(zip(keys, (name, email)))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _git_config(key: str) -> str:
    out = subprocess.run(["git", "config", key], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def _url(remote: str) -> str:
    out = subprocess.run(["git", "remote", "get-url", remote], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "not a remote of this repository"
