"""The settings reference, docs/configuration.md, written from the schema and the recipes.

Both are the one home of what the page says: a test regenerates it and fails when the
committed page has drifted. Rewrite it with ``python -m pipeline.config.reference``.
"""

from __future__ import annotations

import json

from .. import methods
from ..methods import classic, fourier
from . import recipes
from .check import DEFAULT_FILE, schema

PAGE = DEFAULT_FILE.parent / "docs" / "configuration.md"
NESTED = ("grid", *methods.sections())  # sections documented key by key
ITEMS = ("dreams", "classes")            # lists whose items' keys are documented

HEAD = """# Configuration

<!-- Written by `python -m pipeline.config.reference` from pipeline/config/schema.yaml, the
methods' sections and recipes (pipeline/methods/*.py) and pipeline/config/recipes.py;
tests/test_config.py fails when it drifts. Edit those, not this. -->

`config.yaml` holds the whole-network default. Override any setting on the command line the
way Snakemake users write it, or put several in a YAML file and pass `--configfile my.yaml`:

```bash
snakemake --cores all --config 'filters=[0,7,100]'                 # these filters of every layer that has them
snakemake --cores all --config 'layers=[block1_conv2,block5_conv3]' filters=16
snakemake --cores all --config 'filters={block4_conv3: [0,7]}'      # per layer; the others: all
snakemake --cores all --config compare_classic=false               # true/false, True/False, yes/no
snakemake --cores all --config 'fourier={cutoff: 0.3}' 'grid={tile: 96}'
snakemake --cores all --config 'dreams=[{name: cat, photo: "skimage:chelsea", layer: block5_conv3, filters: [0]}]'
```

Snakemake's `--config` hands every value inside a list or a mapping over as text, and reads
only `True`/`False` as booleans; the workflow reads each value as what the schema expects, so
`[0,7,100]` are numbers and `false` is false. A nested override (`fourier={cutoff: 0.3}`)
changes only the keys it names. Everything is checked once, against the schema, before any job
starts; a bad value stops with one line that names the setting, the value and what is allowed,
and nothing is written. Each job then receives exactly the settings it uses, typed, so changing
a setting reruns only the jobs that use it.
"""


def _value(v) -> str:
    return f"`{json.dumps(v) if not isinstance(v, str) else v}`"


def _row(name: str, prop: dict) -> str:
    default = _value(prop["default"]) if "default" in prop else "required"
    if isinstance(prop.get("default"), list) and prop["default"] and isinstance(prop["default"][0], dict):
        default = "see below"
    text = prop.get("description", "")
    if "$comment" in prop:
        text += f"; {prop['$comment']}"
    return f"| `{name}` | {default} | {text.replace('|', '/')} |"


def _recipes() -> list[str]:
    keys = list(next(iter(fourier.RECIPES.values())))
    lines = ["", "## What `auto` means", "",
             "A layer's place in its network is its relative depth: 0 at the first conv, 1 at the "
             "last (VGG16's block 5 is 10/12 to 12/12), so that every network finds its recipes. "
             f"`fourier.schedule: auto` runs `{fourier.DEEP_SCHEDULE}` from depth {fourier.DEEP} on "
             f"(VGG16's block 5) and `{fourier.DEFAULT_SCHEDULE}` before it (the class images too). Each "
             "schedule sets what `auto` means for `steps` and the `fourier` settings (and for the methods "
             "that read them); a value you give wins. The `classic` method's `auto` steps are "
             f"{classic.STEPS} (Chollet 2016). `chunk_size: auto` is a whole layer; "
             f"`batch_size: auto` is what fits in a quarter of the job's memory, at most {recipes.MAX_BATCH}. "
             "`precision: auto` is decided by each ascent job on the machine it runs on: bfloat16 where "
             "its processor computes it natively (a CPU with AVX512_BF16, AMX or Arm's BF16; a GPU of "
             "compute capability 8.0 or newer), at every depth, float32 elsewhere: its pictures move no "
             "further from float32's than a second seed's do (docs/speed.md); the job's log and the record say what "
             "it chose, so a login node decides nothing for the GPU nodes and a rerun on the same "
             "machine keeps every filter. The classic comparison runs in the same precision (it held the same guard on two draws of its own).", "",
             "| schedule | " + " | ".join(f"`{k}`" for k in keys) + " |",
             "|---|" + "---|" * len(keys)]
    for name, values in fourier.RECIPES.items():
        lines.append(f"| `{name}` | " + " | ".join(str(values[k]) for k in keys) + " |")
    return lines


def markdown() -> str:
    sch = schema()
    props = sch["properties"]
    lines = [HEAD, "## Settings", "", "| setting | default | allowed / meaning |", "|---|---|---|"]
    for name, prop in props.items():
        if name in NESTED:
            lines += [_row(f"{name}.{key}", sub) for key, sub in prop["properties"].items()]
        else:
            lines.append(_row(name, prop))
    for name in ITEMS:
        item = props[name]["items"]
        lines += ["", f"## Each item of `{name}`", "", f"Default: {_value(props[name]['default'])}.", "",
                  "| key | default | allowed / meaning |", "|---|---|---|"]
        lines += [_row(key, sub) for key, sub in item["properties"].items()]
    return "\n".join(lines + _recipes()) + "\n"


if __name__ == "__main__":
    PAGE.write_text(markdown())
    print(PAGE)
