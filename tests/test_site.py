"""The atlas website, built by a real Snakemake run, checked as files and in a real browser."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from conftest import REPO, run

HOSTILE = "<script>alert('x')</script> Atlas"
# A list of mappings is most readable in a --configfile (it also works on --config).
DREAM = ("dreams:\n  - {name: cat, photo: 'skimage:chelsea', layer: block4_conv2, filters: [1],"
         " size: 64, steps: 2, octaves: 1}\n")
# block1_conv1 whole, so block1_conv2's filter pages can link every one of their inputs.
SMALL = ["layers=[block1_conv1,block1_conv2,block4_conv2]",
         "filters={block1_conv1: all, block1_conv2: 3, block4_conv2: 3}", "steps=4", "size=48",
         "outdir=atlas", f"title={HOSTILE}", "diversity=2", "base_url=https://you.github.io/atlas/"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory, real_weights) -> Path:
    workdir = tmp_path_factory.mktemp("site")
    (workdir / "dream.yaml").write_text(DREAM)
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--cores", "2", "--configfile", str(workdir / "dream.yaml"), "--config", *SMALL])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        if tag == "img":
            self.images.append(a)


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text())
    return p


def test_pages_exist_for_every_layer_and_filter(site):
    for layer in ("block1_conv1", "block1_conv2", "block4_conv2"):
        assert (site / "layers" / f"{layer}.html").exists()
        for f in range(3):
            assert (site / "filters" / layer / f"{f:04d}.html").exists()
            assert (site / "classic" / layer / f"{f:04d}.png").exists()
            assert (site / "thumbs" / layer / f"{f:04d}.webp").exists()
    page = (site / "filters" / "block1_conv2" / "0001.html").read_text()
    assert "<code>https://you.github.io/atlas/filters/block1_conv2/0001.html</code>" in page  # cite as
    assert '<table class="settings">' in page and "<th>schedule</th><td>cosine</td>" in page
    assert "the strongest of the 13 reference photos" in page
    assert "<dt>precision</dt><dd>float32" in page or "<dt>precision</dt><dd>bfloat16" in page


def test_crawler_finds_no_broken_or_external_link(site):
    seen, todo = set(), [site / "index.html"]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        links = parse(page)
        for img in links.images:
            assert img.get("alt"), f"{page}: image {img.get('src')} has no alt text"
        for link in links.links:
            assert not re.match(r"^(/|[a-z]+:)", link), f"{page}: {link} is not relative"
            target = (page.parent / urldefrag(link)[0]).resolve()
            assert target.exists(), f"{page}: broken link {link}"
            if target.suffix == ".html":
                todo.append(target)
    # index, the guide to the scores, dreams, 3 layer pages, 64 + 3 + 3 filter pages
    assert len(seen) == 76


def test_no_page_shows_nan_or_an_interval_of_no_width(site):
    """13 photos stand behind these scores: every interval shows it, and nothing reads 'nan'."""
    for page in site.rglob("*.html"):
        assert not re.search(r"\bnan\b", page.read_text(), re.I), page
    for path in (site / "trust").rglob("*.json"):
        record = json.loads(path.read_text())
        for key in ("natural", "synthetic", "specific"):
            if record[key]:
                assert record[key]["high"] - record[key]["low"] >= 0.02, (path, key, record[key])


def test_metrics_csv_holds_every_filter_as_its_records_say(site):
    """metrics.csv, read with the standard library: a row per rendered filter in network order,
    every column what the filter's record, trust scores, examples and twins hold; documented,
    column by column, in docs/outputs.md and on the site's guide."""
    import csv

    from pipeline.measure import scorecard, trust
    from pipeline.output import layout
    from pipeline.output.record import FilterExamples, FilterRecord, Trust
    from pipeline.site.metrics import COLUMNS

    with open(site / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    layers = ["block1_conv1", "block1_conv2", "block4_conv2"]
    assert [(r["layer"], int(r["filter"])) for r in rows] == [(layer, f) for layer in layers for f in (
        range(64) if layer == "block1_conv1" else range(3))]
    twins = {layer: json.loads(Path(layout.twins_json(site, layer)).read_text())["twins"] for layer in layers}

    def number(cell: str):
        return None if cell == "" else float(cell)

    def approx(cell: str, value) -> bool:
        return (value is None and cell == "") or number(cell) == pytest.approx(value, rel=1e-5, abs=1e-6)

    for r in rows:
        layer, f = r["layer"], int(r["filter"])
        rec = FilterRecord.read(layout.filter_json(site, layer, f))
        t = Trust.read(layout.trust_json(site, layer, f))
        top = FilterExamples.read(layout.example_files(site, layer, f)[1]).examples[0]
        card, a = rec.scorecard, rec.activation
        assert (r["method"], int(r["steps"]), r["precision"]) == (rec.method, rec.steps, rec.precision)
        assert (r["dead"], r["silent"]) == (str(rec.dead).lower(), str(rec.silent).lower())
        assert approx(r["activation_start"], a.initial) and approx(r["activation"], a.png)
        assert approx(r["peak_after_relu"], a.png_peak)
        for column, field in (("strength", "strength"), ("robustness", "robustness"),
                              ("robustness_error", "robustness_error"), ("robustness_reference", "robustness_reference"),
                              ("spectral_share", "spectral_share"), ("spectral_reference", "spectral_reference")):
            assert approx(r[column], getattr(card, field) if card else None), (column, r)
        assert r["strength_reference"] == (card.best_photo if card else "")
        crossed = scorecard.fails(card) + (["trust"] if trust.verdict(t) == "worse" else [])
        assert (r["crossed"].split(";") if r["crossed"] else []) == crossed
        for name, column in (("specific", "specific"), ("natural", "natural_mis"), ("synthetic", "synthetic_mis")):
            mis = getattr(t, name)
            assert approx(r[column], mis and mis.mis) and approx(r[f"{name}_low"], mis and mis.low)
            assert approx(r[f"{name}_high"], mis and mis.high), (column, r)
        assert approx(r["specific_null_median"], t.null and t.null.median) and approx(r["specific_noise"], t.null and t.null.noise)
        assert (r["verdict"], r["synthetic_kind"]) == (trust.verdict(t), t.synthetic_kind)
        assert approx(r["path"], t.path) and approx(r["path_baseline"], t.path_baseline)
        assert (int(r["photos_strong"]), int(r["photos_weak"])) == tuple(t.pool)
        assert r["top_example"] == top.image and approx(r["top_example_activation"], top.activation)
        mine = [f"{tw['twin']}:{tw['transform']}" for tw in twins[layer] if tw["filter"] == f]
        assert (r["twins"].split(";") if r["twins"] else []) == mine
    assert any(r["twins"] for r in rows) and any(r["specific"] for r in rows)  # the columns carry data here
    documented = (REPO / "docs" / "outputs.md").read_text()
    guide = (site / "trust.html").read_text()
    for name, meaning in COLUMNS.items():
        assert f"| `{name}` | {meaning} |" in documented and f"<code>{name}</code>" in guide, name
    assert 'href="./metrics.csv"' in (site / "index.html").read_text()


def test_hostile_title_is_text_not_markup(site):
    html = (site / "index.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


@pytest.fixture(scope="module")
def server(site):
    """The atlas under a sub-path (/atlas/), as GitHub Pages serves a project site."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(site.parent), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/atlas"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.fail("chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Watched:
    """A page that records console errors and failed requests."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.problems = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # A load still in flight when the page navigates away is aborted by the browser
        # (net::ERR_ABORTED); that is not a broken resource. Every other failure counts.
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                     and self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"))

    def all_images_loaded(self):
        for img in self.page.locator("img").all():
            img.scroll_into_view_if_needed()
        self.page.wait_for_function(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)", timeout=10000)
        return self.page.eval_on_selector_all("img", "els => els.length")


def assert_charts_visible(page, expected: int) -> None:
    """Every chart's marks (bars, lines) are drawn in a colour the page's background does not
    hide, and its axes carry text: what a reader needs to see it."""
    charts = page.eval_on_selector_all("svg.chart, svg.path-curve, .climb svg", """els => els.map(svg => ({
        marks: Array.from(svg.querySelectorAll('rect.bar')).map(r => getComputedStyle(r).fill)
            .concat(Array.from(svg.querySelectorAll('polyline')).map(l => getComputedStyle(l).stroke)),
        texts: Array.from(svg.querySelectorAll('text')).map(t => t.textContent.trim()).filter(t => t),
        textFill: Array.from(svg.querySelectorAll('text')).map(t => getComputedStyle(t).fill),
        behind: getComputedStyle(svg).backgroundColor === 'rgba(0, 0, 0, 0)'
            ? getComputedStyle(document.body).backgroundColor : getComputedStyle(svg).backgroundColor}))""")
    assert len(charts) == expected, charts
    for chart in charts:
        assert chart["marks"] and chart["texts"], chart
        assert not [c for c in chart["marks"] + chart["textFill"] if c in ("rgb(0, 0, 0)", "none", chart["behind"])], chart


def test_browse_the_atlas_like_a_person(site, server, browser, tmp_path):
    w = Watched(browser)
    page = w.page
    page.goto(f"{server}/index.html")
    assert page.title() == HOSTILE
    assert w.all_images_loaded() == 3
    # Per layer, the distribution of the specific scores and the natural MIS.
    bars = page.eval_on_selector_all(".mis-bars svg", "els => els.map(e => [e.dataset.kind, parseFloat(e.dataset.mean)])")
    assert [k for k, _ in bars] == ["specific", "natural"] * 3 and all(0 < m < 1 for _, m in bars), bars
    assert_charts_visible(page, 6)
    page.click("text=block4_conv2")
    page.wait_for_url("**/layers/block4_conv2.html")
    assert w.all_images_loaded() == 3

    def order():
        return [int(x) for x in page.eval_on_selector_all("#tiles li", "els => els.map(e => e.dataset.index)")]

    acts = page.eval_on_selector_all("#tiles li", "els => els.map(e => parseFloat(e.dataset.act))")
    page.click("button[data-sort=act]")
    assert order() == [i for _, i in sorted(zip(acts, range(3)), reverse=True)]
    page.click("button[data-sort=index]")
    assert order() == [0, 1, 2]
    for key in ("specific", "natural", "synthetic", "path"):  # the trust scores, as a person sorts by them
        page.click(f"button[data-sort={key}]")
        shown = page.eval_on_selector_all("#tiles li", f"els => els.map(e => parseFloat(e.dataset.{key}))")
        assert shown == sorted(shown, reverse=True) and min(shown) > -1, (key, shown)
    page.click("button[data-sort=index]")
    page.click("button[data-show=examples]")  # the dataset examples' mosaics in the tiles
    srcs = page.eval_on_selector_all("#tiles img", "els => els.map(e => e.getAttribute('src'))")
    assert [s.split("/")[-2:] for s in srcs] == [["block4_conv2", f"{i:04d}.webp"] for i in range(3)]
    assert all("/examples/" in s for s in srcs) and w.all_images_loaded() == 3
    page.click("button[data-show=picture]")

    page.keyboard.press("ArrowRight")  # focus the first tile
    page.keyboard.press("j")           # then the next one
    assert page.evaluate("document.activeElement.closest('li').dataset.index") == "1"
    page.keyboard.press("Enter")
    page.wait_for_url("**/filters/block4_conv2/0001.html")
    assert w.all_images_loaded() == 3  # the fourier image, its diverse twin, the classic one
    assert page.locator(".climb svg polyline").count() == 1  # the climb (the path chart has its own)
    assert_charts_visible(page, 2)  # the climb and the processing path
    assert page.locator("#examples li").count() == 9  # the best patches of the 13 skimage photos
    assert "skimage:" in page.inner_text("#examples") and "activation" in page.inner_text("#examples")
    page.click("text=cat")  # the dream that used this filter
    page.wait_for_url("**/dreams.html#dream-cat")
    assert w.all_images_loaded() == 2  # the photo and the dream
    page.click("#dream-cat a:text-is('1')")  # and back to the filter
    page.wait_for_url("**/filters/block4_conv2/0001.html")
    page.click("#next")
    page.wait_for_url("**/filters/block4_conv2/0002.html")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url("**/filters/block4_conv2/0001.html")
    page.click("#prev")
    page.wait_for_url("**/filters/block4_conv2/0000.html")
    assert page.locator("#scorecard").count() == 1
    trust = page.inner_text("#scorecard")  # the specific score, both MIS beside the people's figures, the path
    assert "natural MIS (LPIPS)" in trust and "synthetic MIS (LPIPS)" in trust and "92%" in trust and "82%" in trust
    assert "mixed" in trust and "specific score" in trust
    # 13 photos: a demonstration, without a verdict, and it says why.
    assert page.locator(".trust-verdict").get_attribute("data-verdict") == "demonstration"
    assert "Only 6 strong and weak photos a side" in page.inner_text(".trust-verdict")
    shown = page.eval_on_selector_all("#scorecard .mis", "els => els.map(e => parseFloat(e.dataset.mis))")
    record = json.loads((site / "trust" / "block4_conv2" / "0000.json").read_text())
    assert shown == [record["natural"]["mis"], record["synthetic"]["mis"]]
    assert float(page.locator("#scorecard .specific").get_attribute("data-mis")) == record["specific"]["mis"]
    page.click("#scorecard a:text-is('specific score')")  # the jargon, in plain words
    page.wait_for_url("**/trust.html#specific")
    page.go_back()
    assert page.locator("svg.path-curve polyline").count() == 2
    assert page.locator("#circuits li").count() == 16  # 8 inputs, 8 outputs, none rendered
    assert page.locator("#circuits a").count() == 0     # block3/block4_conv3 are not in this atlas

    # Walk the circuit: from a filter to one of its inputs, and back through that input's outputs.
    start = "filters/block1_conv2/0002.html"
    page.goto(f"{server}/{start}")
    inputs = page.locator("#circuits ol").first.locator("a")
    assert inputs.count() == 8 and w.all_images_loaded() >= 8 + 3
    walked = False
    for i in range(8):
        inputs.nth(i).click()
        page.wait_for_url("**/filters/block1_conv1/*.html")
        assert page.locator(".kernel span").count() == 9  # the 3x3 RGB kernel, drawn
        back = page.locator("#circuits a[href$='block1_conv2/0002.html']")
        if back.count():
            back.click()
            page.wait_for_url(f"**/{start}")
            walked = True
            break
        page.go_back()
        page.wait_for_url(f"**/{start}")
    assert walked, "no input of block1_conv2 filter 2 lists it among its outputs"

    page.goto(f"{server}/layers/block1_conv1.html")
    # A crossed tile says on hover what it failed and against which reference of this run.
    # (4 steps: many pictures are still weaker than the strongest photo.)
    crossed = page.locator("#tiles li.fails a")
    assert crossed.count() >= 1 and "reference: the strongest of the photos" in crossed.first.get_attribute("title")
    robust = page.eval_on_selector_all("#tiles li", "els => els.map(e => parseFloat(e.dataset.robust))")
    page.click("button[data-sort=robust]")
    after = page.eval_on_selector_all("#tiles li", "els => els.map(e => parseFloat(e.dataset.robust))")
    assert after == sorted(robust, reverse=True)

    page.fill("#q", "1_2/2")
    page.press("#q", "Enter")
    page.wait_for_url("**/filters/block1_conv2/0002.html")
    page.fill("#q", "block4_conv2 200")
    page.press("#q", "Enter")
    assert "not rendered" in page.inner_text("#search-msg")
    page.fill("#q", "block4_conv2 1")
    page.press("#q", "Enter")
    page.wait_for_url("**/filters/block4_conv2/0001.html")
    assert w.problems == []


def test_works_from_file_urls(site, browser):
    w = Watched(browser)
    w.page.goto((site / "layers" / "block1_conv2.html").as_uri())
    assert w.all_images_loaded() == 3
    w.page.fill("#q", "4_2/0")
    w.page.press("#q", "Enter")
    w.page.wait_for_url("**/filters/block4_conv2/0000.html")
    assert w.problems == []


def test_publish_to_a_local_bare_repository(site, tmp_path):
    bare = tmp_path / "remote.git"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "init"], check=True)
    subprocess.run(git + ["remote", "add", "origin", str(bare)], check=True)
    env_git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    import os

    env = {**os.environ, **env_git, "PYTHONPATH": str(REPO)}
    # A fresh clone's origin is not necessarily yours: without a remote named, nothing moves.
    proc = subprocess.run([sys.executable, "-m", "pipeline", "publish", "--outdir", str(site)],
                          cwd=work, capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "say where to push: --remote origin" in proc.stderr
    assert subprocess.run(["git", "-C", str(bare), "branch", "--list", "gh-pages"], capture_output=True,
                          text=True).stdout == ""
    proc = subprocess.run([sys.executable, "-m", "pipeline", "publish", "--outdir", str(site), "--remote", "origin"],
                          cwd=work, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"pushing it to origin ({bare})" in proc.stderr
    files = subprocess.run(["git", "-C", str(bare), "ls-tree", "-r", "--name-only", "gh-pages"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert "index.html" in files and ".nojekyll" in files and "metrics.csv" in files
    assert "filters/block4_conv2/0001.html" in files and "filters/block4_conv2/0001.png" in files
    assert not [f for f in files if f.startswith(("logs/", "benchmarks/"))]
    assert proc.stdout == ""  # every line it says is on stderr: no stray output
    message = subprocess.run(["git", "-C", str(bare), "log", "-1", "--format=%s", "gh-pages"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert message.startswith(f"Publish {HOSTILE}: 3 layers, drawn by vgg16-atlas ") and message.endswith(
        __import__("datetime").date.today().isoformat()), message
    # The same site again: no new commit, and it says so.
    again = subprocess.run([sys.executable, "-m", "pipeline", "publish", "--outdir", str(site), "--remote", "origin"],
                           cwd=work, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already holds this site" in again.stderr and "nothing to commit" in again.stderr
    commits = subprocess.run(["git", "-C", str(bare), "rev-list", "--count", "gh-pages"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert commits == "1" and again.stdout == ""


def test_publish_without_a_site_is_one_line(tmp_path):
    proc = run([sys.executable, "-m", "pipeline", "publish", "--outdir", str(tmp_path / "none")])
    assert proc.returncode == 2 and "render the atlas first" in proc.stderr


def test_snakemake_report_has_every_grid_and_the_dream_with_captions(site):
    import zipfile

    workdir = site.parent
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                "--configfile", str(workdir / "dream.yaml"), "--config", *SMALL,
                "--report", "atlas-report.zip"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with zipfile.ZipFile(workdir / "atlas-report.zip") as zf:
        names = zf.namelist()
        html = zf.read(next(n for n in names if n.endswith("report.html"))).decode()
    for png in ("block1_conv2.png", "block4_conv2.png", "cat.png"):
        assert any(n.endswith("/" + png) for n in names), names
    assert "Every rendered filter of layer" in html and "block4_conv2" in html
    assert "a photo ascended towards chosen filters" in html


@pytest.fixture(scope="module")
def maco_site(tmp_path_factory, real_weights) -> tuple[Path, Path]:
    """A maco atlas as a user types it, its spectrum from their own folder of images."""
    workdir = tmp_path_factory.mktemp("maco")
    photos = workdir / "photos"
    some_photos(photos, 3)
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2",
                "--config", "dreams=[]", "method=maco", "maco={spectrum: examples}", f"examples={photos}",
                "layers=[block1_conv2]", "filters=[3]", "steps=4", "size=32", "compare_classic=False",
                "examples_top=1"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "atlas", photos


def test_a_maco_record_names_its_spectrum_and_its_transparency_map(maco_site, real_weights):
    import numpy as np
    from PIL import Image

    atlas, photos = maco_site
    record = json.loads((atlas / "filters" / "block1_conv2" / "0003.json").read_text())
    assert record["method"] == "maco" and record["settings"]["spectrum"] == str(photos)
    assert record["transparency"] == "0003.alpha.png"
    with Image.open(atlas / "filters" / "block1_conv2" / "0003.alpha.png") as alpha:
        assert alpha.mode == "RGBA" and alpha.getchannel("A").getextrema()[1] == 255
    cached = []
    for path in real_weights.file.parent.glob("maco-spectrum-32-*.npz"):  # beside the weights
        with np.load(path) as saved:
            if str(saved["source"]) == str(photos):
                cached.append(int(saved["images"]))
    assert cached == [3]


def test_a_maco_filter_page_shows_the_picture_with_and_without_its_map(maco_site, browser):
    atlas, _ = maco_site
    w = Watched(browser)
    w.page.goto((atlas / "filters" / "block1_conv2" / "0003.html").as_uri())
    assert "maco method (MaCo, Fel et al. 2023)" in w.page.inner_text(".filter-view")
    w.all_images_loaded()
    shown = w.page.eval_on_selector_all(
        ".filter-view img.big", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
    assert shown == [["../../filters/block1_conv2/0003.png", 32], ["../../filters/block1_conv2/0003.alpha.png", 32]]
    assert w.problems == []


def planned(workdir: Path, *config: str) -> dict[str, int]:
    """The jobs `snakemake -n` would run, by rule."""
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "-n",
                "--cores", "2", "--config", *config])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    if "Job stats:" not in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)$", table, re.M)}


def some_photos(folder: Path, n: int, start: int = 0) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        pixels = np.random.default_rng(i).integers(0, 255, (40, 56, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")


CARICATURES = ["dreams=[]", "caricatures=True", "layers=[block2_conv1]", "filters=[3]", "steps=4", "size=32",
               "compare_classic=False", "examples_top=1", "caricatures_steps=4", "caricatures_tie=0.2",
               "negative=True"]


def embedding_model(path: Path) -> Path:
    """A similarity whose weights the user supplies: a tiny Keras embedding of 64 px images."""
    import keras

    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(8, 3, kernel_initializer=keras.initializers.RandomNormal(seed=1))(inputs / 255.0)
    keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)).save(path)
    return path


@pytest.fixture(scope="module")
def caricature_site(tmp_path_factory, real_weights) -> tuple[Path, list[str]]:
    workdir = tmp_path_factory.mktemp("caricatures")
    some_photos(workdir / "photos", 3)
    config = [*CARICATURES, f"examples={workdir / 'photos'}",
              f"trust_similarity={embedding_model(workdir / 'embed.keras')}"]
    proc = run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2",
                "--config", *config])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, config


def test_a_caricature_is_shown_beside_its_photo(caricature_site, browser):
    workdir, _ = caricature_site
    record = json.loads((workdir / "atlas" / "caricatures" / "block2_conv1" / "0003.json").read_text())
    assert record["activation"]["caricature"] > record["activation"]["photo"] and record["distance"] > 0
    assert (record["steps"], record["tie"]) == (4, 0.2)  # as typed on the command line
    w = Watched(browser)
    w.page.goto((workdir / "atlas" / "filters" / "block2_conv1" / "0003.html").as_uri())
    w.all_images_loaded()
    shown = w.page.eval_on_selector_all(".caricature img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
    assert shown == [["../../caricatures/block2_conv1/0003.photo.png", 32], ["../../caricatures/block2_conv1/0003.png", 32]]
    assert record["image"] in w.page.inner_text(".caricature") and w.problems == []


def test_new_examples_rerun_the_caricatures_never_an_ascent(caricature_site, tmp_path):
    workdir, config = caricature_site
    assert planned(workdir, *config) == {}
    some_photos(workdir / "photos", 1, start=3)
    jobs = planned(workdir, *config)
    assert jobs.get("examples") == 1 and jobs.get("caricatures") == 1 and jobs.get("pages") == 1
    assert jobs.get("trust") == 1 and "ascend" not in jobs, jobs


def test_negative_pictures_are_drawn_shown_and_used_as_synthetic_negatives(caricature_site, browser):
    workdir, config = caricature_site
    atlas = workdir / "atlas"
    record = json.loads((atlas / "filters" / "block2_conv1" / "0003.json").read_text())
    assert record["negative"] == "0003.negative.png"
    scores = json.loads((atlas / "trust" / "block2_conv1" / "0003.json").read_text())
    # Three photos leave one a side: no natural reference, but the pictures make a task.
    assert scores["synthetic_kind"] == "synthetic" and scores["natural"] is None and scores["tasks"] == 1
    assert scores["similarity"].endswith("embed.keras") and 0 <= scores["synthetic"]["mis"] <= 1
    w = Watched(browser)
    w.page.goto((atlas / "filters" / "block2_conv1" / "0003.html").as_uri())
    w.all_images_loaded()
    assert w.page.locator("figure.negative img").get_attribute("src") == "../../filters/block2_conv1/0003.negative.png"
    assert "synthetic MIS" in w.page.inner_text("#scorecard") and w.problems == []


def test_a_maco_spectrum_from_the_folder_reruns_the_pictures_when_the_folder_changes(maco_site):
    atlas, photos = maco_site
    config = ["dreams=[]", "method=maco", "maco={spectrum: examples}", f"examples={photos}", "layers=[block1_conv2]",
              "filters=[3]", "steps=4", "size=32", "compare_classic=False", "examples_top=1"]
    assert planned(atlas.parent, *config) == {}
    some_photos(photos, 1, start=3)
    assert planned(atlas.parent, *config).get("ascend") == 1
