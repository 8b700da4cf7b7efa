# VGG16 Atlas workflow: wiring only. The logic lives in the `pipeline` package; each rule calls
# `python -m pipeline ...`, which runs the same way by hand.
import json
import os
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)
from pipeline import config as atlas, layout, site, weights
from pipeline.errors import AtlasError

try:  # config.yaml, then --configfile/--config on top; one line and no jobs on bad input
    _cfg = atlas.check(atlas.merge(atlas.read_yaml(f"{workflow.basedir}/config.yaml"), config))
except AtlasError as exc:
    sys.stderr.write(f"error: {exc}\n")
    sys.exit(2)
validate(_cfg, atlas.SCHEMA_FILE)
config.clear()
config.update(_cfg)

OUT = config["outdir"]
SETTINGS = json.dumps(atlas.ascent_settings(config), sort_keys=True)
SELECTION = atlas.selection(config)
WEIGHTS = weights.resolve(config["weights"], weights.cache_dir(config["cache"]), config["preprocess"])
# The converted cache file is shared by every atlas on the machine: converting it again (for
# another folder) must not rerun this one. A user's own weights file keeps its timestamp.
WEIGHTS_INPUT = ancient(str(WEIGHTS.file)) if config["weights"] in weights.NAMES else str(WEIGHTS.file)
PY = sys.executable
# Jobs run `python -m pipeline` from the working directory, which need not be this repository.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")]))


rule all:
    default_target: True
    input:
        site.page_paths(config),


if config["weights"] in weights.NAMES:

    rule weights:
        output:
            str(WEIGHTS.file),
        log:
            f"{OUT}/logs/weights.log",
        params:
            settings=json.dumps(atlas.weights_settings(config), sort_keys=True),
        shell:
            "{PY} -m pipeline weights --settings {params.settings:q} > {log} 2>&1"


# One ascent rule per chunk of filters: Snakemake outputs cannot be computed from wildcards,
# and a chunk (not a single filter) is what keeps a GPU busy between job start-ups.
RENDERS = [("ascend", "filters", layout.filter_png, layout.filter_json, SETTINGS)]
if config["compare_classic"]:
    RENDERS.append(("classic", "classic", layout.classic_png, layout.classic_json,
                    json.dumps(atlas.classic_settings(config), sort_keys=True)))

for (kind, folder, png, meta, settings), (layer_name, chunk) in (
    (r, c) for r in RENDERS for c in atlas.chunks(config)
):

    rule:
        name:
            f"{kind}_{layer_name}_{chunk[0]:04d}"
        input:
            WEIGHTS_INPUT,
        output:
            [png(OUT, layer_name, f) for f in chunk] + [meta(OUT, layer_name, f) for f in chunk]
            + ([layout.diverse_png(OUT, layer_name, f, k) for f in chunk
                for k in range(1, config["diversity"])] if kind == "ascend" else []),
        log:
            f"{OUT}/logs/{kind}/{layer_name}-{chunk[0]:04d}.log",
        benchmark:
            f"{OUT}/benchmarks/{kind}/{layer_name}-{chunk[0]:04d}.tsv"
        params:
            settings=settings,
            layer=layer_name,
            filters=",".join(map(str, chunk)),
            out=f"{OUT}/{folder}/{layer_name}",
        threads: workflow.cores  # one ascent at a time owns the machine (and its GPU)
        resources:
            gpu=1,
        shell:
            "{PY} -m pipeline ascend --layer {params.layer} --filters {params.filters} "
            "--out {params.out} --threads {threads} "
            "--settings {params.settings:q} > {log} 2>&1"


for layer_name, filters in SELECTION.items():

    rule:
        name:
            f"grid_{layer_name}"
        input:
            [layout.filter_png(OUT, layer_name, f) for f in filters]
            + [layout.filter_json(OUT, layer_name, f) for f in filters],
        output:
            layout.grid_png(OUT, layer_name),
            layout.grid_thumb(OUT, layer_name),
            [layout.filter_thumb(OUT, layer_name, f) for f in filters],
        log:
            f"{OUT}/logs/grid/{layer_name}.log",
        params:
            settings=json.dumps(atlas.grid_settings(config, layer_name, filters), sort_keys=True),
            layer=layer_name,
        shell:
            "{PY} -m pipeline grid --layer {params.layer} --settings {params.settings:q} > {log} 2>&1"


for spec in config["dreams"]:

    rule:
        name:
            f"dream_{spec['name']}"
        input:
            [WEIGHTS_INPUT] + ([] if spec["photo"].startswith("skimage:") else [spec["photo"]]),
        output:
            layout.dream_files(OUT, spec["name"]),
        log:
            f"{OUT}/logs/dream/{spec['name']}.log",
        benchmark:
            f"{OUT}/benchmarks/dream/{spec['name']}.tsv"
        params:
            settings=json.dumps(atlas.dream_settings(config, spec), sort_keys=True),
            name=spec["name"],
        threads: workflow.cores
        resources:
            gpu=1,
        shell:
            "{PY} -m pipeline dream --name {params.name} --settings {params.settings:q} > {log} 2>&1"


if config["classes"]:

    rule classes:
        input:
            WEIGHTS_INPUT,
        output:
            [f for c in config["classes"] for f in layout.class_files(OUT, c["name"])],
        log:
            f"{OUT}/logs/classes.log",
        benchmark:
            f"{OUT}/benchmarks/classes.tsv"
        params:
            settings=json.dumps(atlas.class_settings(config), sort_keys=True),
        threads: workflow.cores
        resources:
            gpu=1,
        shell:
            "{PY} -m pipeline classes --settings {params.settings:q} > {log} 2>&1"


rule site:
    input:
        [layout.grid_png(OUT, name) for name in config["layers"]],
        [layout.filter_json(OUT, name, f) for name, fs in SELECTION.items() for f in fs],
        [layout.classic_json(OUT, name, f) for name, fs in SELECTION.items() for f in fs]
        if config["compare_classic"] else [],
        [f for d in config["dreams"] for f in layout.dream_files(OUT, d["name"])],
        [f for c in config["classes"] for f in layout.class_files(OUT, c["name"])],
        templates=sorted(str(p) for p in Path(workflow.basedir, "site_templates").iterdir()),
    output:
        site.page_paths(config),
    log:
        f"{OUT}/logs/site.log",
    params:
        settings=json.dumps(config, sort_keys=True),
    shell:
        "{PY} -m pipeline site --settings {params.settings:q} > {log} 2>&1"
