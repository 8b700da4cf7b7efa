"""Screenshots of a rendered atlas, as a reader sees it, in Debian's Chromium.

    python docs/screenshots.py VGG16_ATLAS [ALEXNET_ATLAS [KERAS_ATLAS]]

For the README (docs/screenshots/{network,layer,filter}.png): the top of the network, layer and
filter pages at a desktop width (filter-trust.png and filter-mis.png are of the atlas
docs/trust.md measured on real photos, and say so there). For looking at every
page kind as a whole (docs/screenshots/pages/*.jpg): the network page, the guide, a layer page
and the filter page of each rendered layer (the first filter rendered), of the VGG16 atlas and
of the others given, each whole, at 1100 px and at a 390 px phone width.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
WIDTHS = (1100, 390)
SHOWN = 800  # px: the width a desktop page is kept at (JPEG), so that the folder stays small


def first_filter(atlas: Path, layer: str) -> str:
    return sorted((atlas / "filters" / layer).glob("[0-9]*.html"))[0].relative_to(atlas).as_posix()


def pages(atlas: Path, name: str) -> list[tuple[str, Path]]:
    """(name, page) of every page kind: the network page, the guide, each layer's first filter."""
    layers = sorted(p.stem for p in (atlas / "layers").glob("*.html"))
    out = [(f"{name}-network", atlas / "index.html")]
    if name == "vgg16":
        out += [("guide", atlas / "trust.html"), (f"{name}-layer-{layers[0]}", atlas / "layers" / f"{layers[0]}.html")]
    return out + [(f"{name}-filter-{layer}", atlas / first_filter(atlas, layer)) for layer in layers]


def whole(page, url: Path, path: Path, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url.as_uri())
    page.wait_for_load_state("load")
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    if image.width > SHOWN:
        image = image.resize((SHOWN, round(image.height * SHOWN / image.width)), Image.LANCZOS)
    image.save(path, quality=55, optimize=True)
    print(path)


def readme(page, atlas: Path) -> None:
    """The three page types' tops."""
    layer = sorted(p.stem for p in (atlas / "layers").glob("*.html"))[-2]
    filter_page = atlas / first_filter(atlas, layer)
    page.set_viewport_size({"width": 1100, "height": 800})
    for name, url in (("network", atlas / "index.html"), ("layer", atlas / "layers" / f"{layer}.html"),
                      ("filter", filter_page)):
        page.goto(url.as_uri())
        for img in page.locator("img").all()[:40]:
            img.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / f"{name}.png"))
        print(OUT / f"{name}.png")


def main(vgg16: str, *others: str) -> None:
    atlases = [("vgg16", Path(vgg16).resolve())] + [(name, Path(a).resolve()) for name, a in zip(("alexnet", "keras"), others)]
    (OUT / "pages").mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--no-first-run"])
        page = browser.new_page()
        readme(page, atlases[0][1])
        for name, atlas in atlases:
            for shot, url in pages(atlas, name):
                for width in WIDTHS:
                    whole(page, url, OUT / "pages" / f"{shot}-{width}.jpg", width)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
