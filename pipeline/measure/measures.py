"""The trust measures, one entry each: what the trust job's log, the trust command's line and the
pages ask of a measure, asked of its entry (:data:`MEASURES`).

A measure's arithmetic is in ``trust.py`` (NumPy, intervals over the photos) and it is measured
with the network in ``interpretability.Scorer``; its part of a filter's trust record is the
field of its name in ``output/record.Trust``; its page fragment is
``site_templates/trust/{name}.html``, two macros: its lines on a filter page and its entry in
the guide to the scores. The pages draw, sort and chart every entry here, in this order. NumPy
only: the pages job reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .trust import specificity


@dataclass(frozen=True)
class Measure:
    """A trust measure, as the log, the command line and the pages show it."""

    name: str             # its field of output/record.Trust and its key on the pages
    title: str            # as the pages name it
    source: str           # who it comes from, as public text names it
    chart: str | None     # its colour on the network page's histograms; None: not drawn there
    missing: float = -1.0  # where it was not taken: how a layer page sorts it (last)

    def score(self, got) -> float | None:
        """Its number in a trust record (or the scorer's dict of one), None where not taken."""
        value = got.get(self.name) if isinstance(got, dict) else getattr(got, self.name)
        return value if value is None or isinstance(value, (int, float)) else value.mis

    def words(self, got: dict) -> str | None:
        """Its part of the trust job's log line."""
        value = self.score(got)
        return None if value is None else f"{self.name} {value:.2f}"

    def line(self, got: dict) -> dict:
        """Its keys in the trust command's JSON line."""
        return {f"{self.name}_mis": self.score(got)}


class Specific(Measure):
    def words(self, got: dict) -> str | None:
        null = got.get("null")
        said = super().words(got)
        return said and (said + (f", null {null.median:.2f}, noise {null.noise:.2f}" if null else ""))

    def line(self, got: dict) -> dict:
        specific, null = got["specific"], got["null"]
        return {"mis": specific.mis if specific else None, "mis_low": specific.low if specific else None,
                "mis_high": specific.high if specific else None,
                "null_median": null.median if null else None, "noise": null.noise if null else None,
                "verdict": specificity(specific, null, got["pool"])}


class Synthetic(Measure):
    def line(self, got: dict) -> dict:
        return {"synthetic_mis": self.score(got), "synthetic_kind": got["synthetic_kind"]}


class Path(Measure):
    def words(self, got: dict) -> str | None:
        return f"path {got.get('path')}"

    def line(self, got: dict) -> dict:
        return {"path": got["path"], "path_baseline": got["path_baseline"]}


MEASURES = (
    Specific("specific", "specific score", "this atlas", chart="#fc8"),
    Measure("natural", "natural MIS", "Zimmermann et al. 2024", chart="#8cf"),
    Synthetic("synthetic", "synthetic MIS", "Zimmermann et al. 2024", chart=None),
    Path("path", "path similarity", "Geirhos et al. 2024", chart=None, missing=-2.0),  # a correlation: -1 to 1
)
