"""Per-job figures of a rendered atlas, from Snakemake's benchmark files and the filter JSON.

For every ascent job: wall time, peak memory (Snakemake's max_rss), filters, the seconds the
ascent itself took (summed from the filters' JSON), and the start-up share — importing
TensorFlow, loading the weights, building and compiling — that chunking has to keep small.

    python bench/jobs.py atlas/
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path


def main(outdir: str) -> None:
    root = Path(outdir)
    rows = []
    for tsv in sorted(root.glob("benchmarks/*/*.tsv")):
        kind, job = tsv.parent.name, tsv.stem
        with open(tsv) as fh:
            record = next(csv.DictReader(fh, delimiter="\t"))
        wall, rss = float(record["s"]), float(record["max_rss"])
        layer = job.rsplit("-", 1)[0]
        folder = {"ascend": "filters", "classic": "classic"}.get(kind)
        ascent = filters = 0
        if folder:
            # Chunks are consecutive runs of the sorted selection: the job's N filters are the
            # first N rendered filters from its first index on.
            log = (root / "logs" / kind / f"{job}.log").read_text()
            count = int(re.search(r": (\d+) filters, method", log).group(1))
            first = int(job.rsplit("-", 1)[1])
            metas = [json.loads(p.read_text()) for p in sorted((root / folder / layer).glob("*.json"))]
            mine = [m for m in metas if m["filter"] >= first][:count]
            ascent, filters = sum(m["seconds"] for m in mine), len(mine)
        share = f"{(wall - ascent) / wall:.0%}" if filters else "n/a"
        rows.append((kind, job, filters, wall, ascent, share, rss))
    print("| job | filters | wall s | ascent s | start-up share | peak memory MiB |")
    print("|---|---|---|---|---|---|")
    for kind, job, filters, wall, ascent, share, rss in rows:
        print(f"| {kind} {job} | {filters} | {wall:.1f} | {ascent:.1f} | {share} | {rss:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "atlas")
