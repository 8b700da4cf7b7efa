"""A method beside the default, on the measures the pages show, on real photos.

    python bench/methods.py                                  # pixels beside fourier, draw A
    python bench/methods.py --methods fourier,maco --seed 202  # any registered methods, draw B

Draws ``--filters`` filters at random (``--seed``) from each of ``--layers`` and renders them
with each method through real Snakemake, at the defaults otherwise, with the dataset examples
and trust scores from the real photos of ``bench/photos.py``. Then per layer and method, from
the records the atlas wrote: the share of pictures that beat every photo (strength above 1;
Wilson 95% interval), the median robustness and the share at or above its photo reference, the
mean specific score (95% bootstrap interval over the filters) and its verdicts, and seconds per
filter. The first method is the baseline each ratio is taken against.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.measure.trust import specificity  # noqa: E402
from pipeline.model import description  # noqa: E402
from pipeline.output import layout  # noqa: E402
from pipeline.output.record import FilterRecord, Trust  # noqa: E402

LAYERS = ["block2_conv2", "block4_conv1", "block5_conv2"]


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of a share k/n."""
    if n == 0:
        return 0.0, 1.0
    p, z = k / n, 1.96
    mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def bootstrap(values: list[float], seed: int = 0) -> tuple[float, float]:
    x = np.asarray(values, float)
    means = np.random.default_rng(seed).choice(x, (2000, len(x))).mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def render(method: str, chosen: dict[str, list[int]], examples: str, out: Path) -> float:
    """One atlas of ``chosen`` with ``method``; its seconds."""
    filters = "{" + ", ".join(f"{k}: [{','.join(map(str, v))}]" for k, v in chosen.items()) + "}"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(out), "--cores", "all",
                    "-q", "--config", f"method={method}", f"layers=[{','.join(chosen)}]", f"filters={filters}",
                    f"examples={examples}", "dreams=[]", "compare_classic=False", "outdir=atlas"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measures(atlas: Path, layer: str, filters: list[int]) -> dict:
    recs = [FilterRecord.read(layout.filter_json(str(atlas), layer, f)) for f in filters]
    trust = [Trust.read(layout.trust_json(str(atlas), layer, f)) for f in filters]
    cards = [r.scorecard for r in recs if r.scorecard]
    specific = [t.specific.mis for t in trust if t.specific]
    verdicts = [specificity(t.specific, t.null, t.pool) for t in trust]
    return {"n": len(recs), "beat": sum(c.strength > 1 for c in cards), "cards": len(cards),
            "robustness": float(np.median([c.robustness for c in cards])) if cards else float("nan"),
            "robust": sum(c.robustness >= (c.robustness_reference or 0) for c in cards),
            "specific": specific, "verdicts": {v: verdicts.count(v) for v in sorted(set(verdicts))},
            "seconds": float(np.mean([r.seconds for r in recs]))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="fourier,pixels", help="comma-separated; the first is the baseline")
    p.add_argument("--layers", default=",".join(LAYERS))
    p.add_argument("--filters", type=int, default=8, help="filters drawn per layer")
    p.add_argument("--seed", type=int, default=101, help="the draw (tune on one, check on another)")
    p.add_argument("--out", default="/tmp/bench-methods")
    args = p.parse_args()
    net = description.of("vgg16", Path())
    rng = np.random.default_rng(args.seed)
    chosen = {lyr: sorted(rng.choice(net.layer(lyr).filters, args.filters, replace=False).tolist())
              for lyr in args.layers.split(",")}
    examples = subprocess.run([sys.executable, str(REPO / "bench" / "photos.py")], capture_output=True, text=True,
                              check=True).stdout.strip()
    print(f"filters drawn with seed {args.seed}: {json.dumps(chosen)}; examples: {examples}")
    methods = args.methods.split(",")
    got = {}
    for m in methods:
        out = Path(args.out) / f"{m}-{args.seed}"
        print(f"{m}: {render(m, chosen, examples, out):.0f} s for the atlas", flush=True)
        got[m] = {lyr: measures(out / "atlas", lyr, fs) for lyr, fs in chosen.items()}
    print("\n| layer | method | beat every photo | robustness, median (at or above its photo reference) "
          "| specific score, mean [95%] | verdicts | s/filter |")
    print("|---|---|---|---|---|---|---|")
    for lyr in chosen:
        for m in methods:
            g = got[m][lyr]
            lo, hi = wilson(g["beat"], g["cards"])
            s_lo, s_hi = bootstrap(g["specific"]) if g["specific"] else (float("nan"),) * 2
            ratio = "" if m == methods[0] else f" ({g['seconds'] / got[methods[0]][lyr]['seconds']:.2f}x)"
            print(f"| {lyr} | {m} | {g['beat']}/{g['cards']} [{lo:.2f}, {hi:.2f}] | {g['robustness']:.2f} "
                  f"({g['robust']}/{g['cards']}) | {np.mean(g['specific']):.2f} [{s_lo:.2f}, {s_hi:.2f}] | "
                  f"{', '.join(f'{k} {v}' for k, v in g['verdicts'].items())} | {g['seconds']:.1f}{ratio} |")


if __name__ == "__main__":
    main()
