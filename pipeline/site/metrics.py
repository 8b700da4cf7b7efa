"""metrics.csv: every filter of the atlas as one row of numbers, for a researcher's own analysis.

The metrics job reads each filter's record, its trust scores, its dataset examples and its
layer's twins, and writes ``metrics.csv`` at the atlas' root, read with any CSV reader (Python's
``csv`` module included). Its rule's inputs are the jobs' manifests of those records, so the
table is rebuilt when a record changes, never for a title or a template. :data:`COLUMNS` is the one home of the columns and what each means: docs/outputs.md
lists them, and a test keeps the two the same. An empty cell is a measure not taken (no trust
scores, a filter that never fired, too few photos).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..config import settings
from ..measure import scorecard, trust
from ..output import layout
from ..output.record import FilterExamples, FilterRecord, Trust

COLUMNS = {
    "layer": "the conv layer",
    "filter": "the filter's index in its layer",
    "method": "how its picture was drawn (docs/methods.md)",
    "steps": "steps of the ascent",
    "precision": "float32 or bfloat16: the arithmetic that drew the picture",
    "activation_start": "the filter's spatial mean before its ReLU on the starting image",
    "activation": "the same on the saved picture: what the ascent maximised",
    "peak_after_relu": "the largest output after the ReLU on the saved picture (0: it never fired)",
    "dead": "true where the filter is known never to fire",
    "silent": "true where it did not fire on its picture within these steps",
    "strength": "its activation on the picture over that on its strongest reference photo (above 1 beats every photo)",
    "strength_reference": "that photo",
    "robustness": "the share of its activation the picture keeps when moved",
    "robustness_error": "robustness's standard error over its moves",
    "robustness_reference": "the least any photo that makes it fire keeps under the same moves",
    "spectral_share": "the picture's power above half the Nyquist frequency",
    "spectral_reference": "the largest spectral share of the reference photos",
    "crossed": "the measures the picture fails against their references, ';'-separated (its tile's cross)",
    "specific": "the specific score: does the picture tell what this filter does (0.5 is chance)",
    "specific_low": "its 95% interval, low end (a bootstrap over the photos)",
    "specific_high": "its 95% interval, high end",
    "specific_null_median": "the same score for the layer's other pictures: their median",
    "specific_noise": "the same score for grey noise",
    "verdict": "the specific score against its null: specific, not specific, worse, or demonstration (too few photos)",
    "natural_mis": "MIS with its dataset examples as references (Zimmermann et al. 2024)",
    "natural_low": "its 95% interval, low end",
    "natural_high": "its 95% interval, high end",
    "synthetic_mis": "MIS with its pictures as references",
    "synthetic_low": "its 95% interval, low end",
    "synthetic_high": "its 95% interval, high end",
    "synthetic_kind": "synthetic (with its negative picture) or mixed (natural negatives)",
    "path": "the processing path: the picture's mean rank correlation with its top examples (Geirhos et al. 2024)",
    "path_baseline": "the same between its top examples",
    "photos_strong": "strong photos the trust scores stand on",
    "photos_weak": "weak photos the trust scores stand on",
    "top_example": "the image whose patch excites it most",
    "top_example_activation": "the filter's activation there, before its ReLU",
    "twins": "filters that answer its picture turned or mirrored, ';'-separated as filter:how",
}


def _text(value) -> str:
    """A cell: empty for a measure not taken, true/false, a number as Python writes it."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(round(value, 6)) if isinstance(value, float) else str(value)


def row(rec: FilterRecord, t: Trust | None, examples: FilterExamples | None, twins: list[dict]) -> dict:
    """One filter's row: every column of :data:`COLUMNS`, as text."""
    card, a = rec.scorecard, rec.activation
    crossed = scorecard.fails(card) + (["trust"] if trust.verdict(t) == "worse" else [])
    out = {"layer": rec.layer, "filter": rec.filter, "method": rec.method, "steps": rec.steps,
           "precision": rec.precision, "activation_start": a.initial, "activation": a.png,
           "peak_after_relu": a.png_peak, "dead": rec.dead, "silent": rec.silent,
           "strength": card and card.strength, "strength_reference": card and card.best_photo,
           "robustness": card and card.robustness, "robustness_error": card and card.robustness_error,
           "robustness_reference": card and card.robustness_reference,
           "spectral_share": card and card.spectral_share, "spectral_reference": card and card.spectral_reference,
           "crossed": ";".join(crossed), "verdict": trust.verdict(t) if t else "",
           "twins": ";".join(f"{tw['twin']}:{tw['transform']}" for tw in twins if tw["filter"] == rec.filter)}
    for name in ("specific", "natural", "synthetic"):
        score = t and getattr(t, name)
        key = name if name == "specific" else f"{name}_mis"
        out |= {key: score and score.mis, f"{name}_low": score and score.low, f"{name}_high": score and score.high}
    out |= {"specific_null_median": t and t.null and t.null.median, "specific_noise": t and t.null and t.null.noise,
            "synthetic_kind": t.synthetic_kind if t else "", "path": t and t.path, "path_baseline": t and t.path_baseline,
            "photos_strong": t.pool[0] if t else None, "photos_weak": t.pool[1] if t else None}
    top = examples.examples[0] if examples and examples.examples else None
    out |= {"top_example": top.image if top else "", "top_example_activation": top and top.activation}
    return {name: _text(out[name]) for name in COLUMNS}


def write(m: settings.Metrics) -> Path:
    """``metrics.csv``: every selected filter, in network order."""
    text = io.StringIO()
    table = csv.DictWriter(text, fieldnames=list(COLUMNS), lineterminator="\n")
    table.writeheader()
    for layer, filters in m.filters.items():
        twins = json.loads(Path(layout.twins_json(m.outdir, layer)).read_text())["twins"]
        for f in filters:
            examples = layout.example_files(m.outdir, layer, f)[1]
            found = FilterExamples.read(examples) if m.examples and Path(examples).exists() else None
            trusted = layout.trust_json(m.outdir, layer, f)
            scores = Trust.read(trusted) if m.trust and Path(trusted).exists() else None
            table.writerow(row(FilterRecord.read(layout.filter_json(m.outdir, layer, f)), scores, found, twins))
    return layout.write_text(layout.metrics_csv(m.outdir), text.getvalue())
