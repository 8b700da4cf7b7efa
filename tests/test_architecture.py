"""The house rules, read from the source: the import contract, what parse time may import, and
how big a function may grow (docs/architecture.md)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run

PACKAGE = REPO / "pipeline"
LONGEST, WIDEST = 50, 7  # lines of body, parameters (self, *args and **kwargs not counted)
# The exceptions the rule allows, each with its reason beside the function.
LONG_ALLOWED: set[str] = set()


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return run([str(Path(sys.executable).with_name("lint-imports")), "--config", str(root / ".importlinter")],
               cwd=root)


def test_the_import_contract_holds():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 kept, 0 broken" in proc.stdout


def test_the_contract_catches_an_import_upwards(tmp_path):
    """The contract is not a formality: a low layer importing a high one breaks it."""
    shutil.copytree(PACKAGE, tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path)
    recipes = tmp_path / "pipeline" / "config" / "recipes.py"
    recipes.write_text(recipes.read_text() + "\nfrom ..jobs import ascend  # upwards, and TensorFlow\n")
    proc = run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())", "--config", ".importlinter"],
               cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and "BROKEN" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_parse_time_and_the_pages_never_start_tensorflow():
    """What the Snakefile and the page jobs import, imported for real in a fresh process."""
    code = ("import sys; sys.path.insert(0, {repo!r}); "
            "import pipeline.config, pipeline.config.settings, pipeline.config.estimate, "
            "pipeline.output.layout, pipeline.jobs.device, pipeline.jobs.failures, "
            "pipeline.images.photos, pipeline.model.weights, pipeline.site.pages, pipeline.site.publish, "
            "pipeline.jobs.lifetime; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))").format(repo=str(REPO))
    proc = run([sys.executable, "-c", code])
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr[-2000:]


def functions() -> list[tuple[str, int, int]]:
    """(module.function:line, body lines, parameters) of every function in the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        name = path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                doc = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                start = body[1].lineno if doc and len(body) > 1 else body[0].lineno
                a = node.args
                params = [x for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ("self", "cls")]
                out.append((f"{name}.{node.name}:{node.lineno}", node.end_lineno - start + 1, len(params)))
    return out


def test_no_function_is_long_or_wide():
    found = functions()
    assert len(found) > 200  # the walk saw the package
    long = [f"{n} ({lines} lines)" for n, lines, _ in found if lines > LONGEST and n.split(":")[0] not in LONG_ALLOWED]
    wide = [f"{n} ({params} parameters)" for n, _, params in found if params > WIDEST]
    assert not long and not wide, long + wide


def test_no_import_cycle_inside_the_package():
    """Function-level imports count: a cycle held open by a deferred import is still a cycle."""
    import grimp

    graph = grimp.build_graph("pipeline")
    modules = sorted(graph.modules)
    cycles = [(a, b) for a in modules for b in modules if a < b
              and not graph.find_children(a) and not graph.find_children(b)
              and graph.chain_exists(a, b) and graph.chain_exists(b, a)]
    assert not cycles, cycles


def named_in_docstring(package: Path) -> set[str]:
    """The modules and sub-packages a package's docstring lists (``- ``name`` ...``) or names
    inline (````name````, where it is one word)."""
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    return {m for m in re.findall(r"``(\w+)``", doc)}


def test_every_module_a_package_docstring_names_exists_and_every_module_is_named():
    for package in [PACKAGE, *sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))]:
        present = {p.stem for p in package.glob("*.py") if p.stem != "__init__"} | \
                  {p.parent.name for p in package.glob("*/__init__.py")}
        named = named_in_docstring(package)
        listed = named & present
        # Words that are not modules: config's "what every ``auto`` means", Lucid's ``optvis``.
        assert named - present <= {"auto", "optvis"}, (package.name, named - present)
        assert present == listed, (package.name, present - listed)


def test_parse_time_starts_no_tensorflow_with_classes_set(tmp_path):
    """A real `snakemake -n` with classes and a full-network weights file (its classifier is
    found with h5py): an import hook in the Snakemake process says if Keras or TensorFlow load."""
    import h5py

    weights = tmp_path / "full.weights.h5"
    with h5py.File(weights, "w") as fh:
        fh.create_group("layers/dense_2")  # what weights.has_classifier looks for
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('tensorflow', 'keras', 'jax'):\n"
        "            print(f'IMPORTED {name}', file=sys.stderr)\n"
        "sys.meta_path.insert(0, Watch())\n")
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                "--cores", "2", "--config", "layers=[block1_conv1]", "filters=1", f"weights={weights}",
                "classes=[{name: goldfish, class: 1}]", "dreams=[]"],
               env={**os.environ, "PYTHONPATH": str(hook)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rule classes:" in proc.stdout  # the classes job is planned: the check took the file
    assert "IMPORTED" not in proc.stderr, [l for l in proc.stderr.splitlines() if "IMPORTED" in l]
