"""Screenshots of the three page types of a rendered atlas, of a filter page's scorecard and
circuits, and of its MIS and path, for the README.

    python docs/screenshots.py atlas/ [block4_conv3] [7]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(atlas: str, layer: str = "block4_conv3", index: int = 7) -> None:
    root = Path(atlas).resolve()
    out = Path(__file__).resolve().parent / "screenshots"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        for name, url in (("network", root / "index.html"),
                          ("layer", root / "layers" / f"{layer}.html"),
                          ("filter", root / "filters" / layer / f"{index:04d}.html")):
            page.goto(url.as_uri())
            for img in page.locator("img").all()[:40]:
                img.scroll_into_view_if_needed()
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        # The filter page again, lower down: its scorecard, twins and circuits.
        page.set_viewport_size({"width": 1100, "height": 900})
        page.evaluate("document.getElementById('scorecard').scrollIntoView()")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "filter-trust.png"))
        print(out / "filter-trust.png")
        if page.locator("#trust").count():  # its MIS beside people's figures, and the path
            mis(page, out)
        browser.close()


def mis(page, out: Path) -> None:
    page.evaluate("document.getElementById('trust').scrollIntoView(); window.scrollBy(0, -140)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "filter-mis.png"))
    print(out / "filter-mis.png")


if __name__ == "__main__":
    main(*sys.argv[1:2], *sys.argv[2:3], *[int(a) for a in sys.argv[3:4]])
