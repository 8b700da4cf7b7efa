"""The whole atlas at full width: every filter of all 13 layers through Snakemake, at tiny
settings (1 step, 32 px, no classic comparison, no dataset examples: tests/test_examples.py has
them), and a site with no broken link.

Its figures (whole time, time Snakemake spends outside jobs, .snakemake/metadata size, the
pages step's time and peak memory) are printed; run with -s to see them.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from conftest import REPO, VGG16, run

pytestmark = pytest.mark.slow
TINY = ["steps=1", "size=32", "compare_classic=false", "dreams=[]", "examples=none"]


@pytest.fixture(scope="module")
def full(tmp_path_factory, real_weights):
    workdir = tmp_path_factory.mktemp("full")
    t0 = time.time()
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--config", *TINY])
    t1 = time.time()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, t0, t1


def benchmark(path: Path) -> dict:
    with open(path) as fh:
        return next(csv.DictReader(fh, delimiter="\t"))


def test_every_filter_has_its_png_record_and_page(full):

    out = full[0] / "atlas"
    for lyr in VGG16.layers:
        folder = out / "filters" / lyr.name
        for kind in ("png", "json", "html"):
            names = {p.stem for p in folder.glob(f"*.{kind}")}
            assert names == {f"{f:04d}" for f in range(lyr.filters)}, (lyr.name, kind)
        assert (out / "layers" / f"{lyr.name}.html").exists()
    assert sum(1 for _ in (out / "filters").rglob("*.png")) == VGG16.total_filters == 4224


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("href", "src") and v]


def test_the_site_has_no_broken_link(full):
    out = full[0] / "atlas"
    seen, todo, checked = set(), [out / "index.html"], 0
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        parser = Links()
        parser.feed(page.read_text())
        for link in parser.links:
            assert not re.match(r"^(/|[a-z]+:)", link), f"{page}: {link} is not relative"
            target = (page.parent / urldefrag(link)[0]).resolve()
            assert target.exists(), f"{page}: broken link {link}"
            checked += 1
            if target.suffix == ".html":
                todo.append(target)
    assert len(seen) == 1 + 1 + 13 + 4224, len(seen)  # the network page, the guide, 13 layers, every filter


def test_figures_of_the_run(full):
    """Where the time went: jobs, and Snakemake's own bookkeeping around them."""
    workdir, t0, t1 = full
    out = workdir / "atlas"
    spans = []
    for m in (out / "manifests" / "ascend").glob("*.json"):
        data = json.loads(m.read_text())
        spans.append((data["started"], data["finished"]))
    for kind, output in (("twins", lambda n: out / "manifests" / "twins" / f"{n}.json"),
                         ("grid", lambda n: out / "grids" / f"{n}.png"),
                         ("pages", lambda n: out / "layers" / f"{n}.html"),
                         ("site", lambda n: out / "index.html")):
        for tsv in (out / "benchmarks" / kind).glob("*.tsv"):
            end = output(tsv.stem).stat().st_mtime
            spans.append((end - float(benchmark(tsv)["s"]), end))
    spans.sort()
    busy, (lo, hi) = 0.0, spans[0]
    for a, b in spans[1:]:
        if a > hi:
            busy, lo, hi = busy + hi - lo, a, b
        else:
            hi = max(hi, b)
    busy += hi - lo
    metadata = sum(p.stat().st_size for p in (workdir / ".snakemake" / "metadata").rglob("*") if p.is_file())
    records = sum(1 for _ in (workdir / ".snakemake" / "metadata").rglob("*"))
    pages = [benchmark(p) for p in (out / "benchmarks" / "pages").glob("*.tsv")]
    print(f"\nfull width: {t1 - t0:.0f} s in all; jobs busy {busy:.0f} s; Snakemake outside jobs "
          f"{t1 - t0 - busy:.0f} s; .snakemake/metadata {metadata / 1e6:.2f} MB in {records} records; "
          f"pages jobs {sum(float(p['s']) for p in pages):.1f} s in all, the largest "
          f"{max(float(p['s']) for p in pages):.1f} s, peak memory {max(float(p['max_rss']) for p in pages):.0f} MiB")
    assert records < 200  # one record per declared output: it grows with jobs, not with filters


def test_one_step_makes_filters_silent_not_dead(full):
    """At 1 step many filters do not fire yet: they are silent after 1 step, not dead. Dead is
    kept for block1_conv1 filters that no image can fire (decided from the weights: none)."""
    from pipeline.output import layout
    from pipeline.output.record import FilterRecord

    out = full[0] / "atlas"
    silent = {}
    for lyr in VGG16.layers:
        records = [FilterRecord.read(layout.filter_json(out, lyr.name, f)) for f in range(lyr.filters)]
        assert not any(r.dead for r in records), lyr.name
        assert all(r.silent == (r.activation.png_peak <= 0) for r in records), lyr.name
        assert all((r.scorecard is None) == r.silent for r in records), lyr.name
        silent[lyr.name] = sum(r.silent for r in records)
        summary = json.loads(Path(layout.layer_summary(out, lyr.name)).read_text())
        assert summary["silent"] == silent[lyr.name] and summary["dead"] == 0
    print(f"\nsilent after 1 step: {silent}")
    assert sum(silent.values()) > 0
    html = (out / "layers" / "block5_conv3.html").read_text()
    assert "silent</span> after their steps" in html and "dead</span>" not in html
