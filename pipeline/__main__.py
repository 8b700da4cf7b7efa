"""The command line: ``python -m pipeline COMMAND``, one command per job of the workflow.

Snakemake's jobs call these with ``--settings``: the job's typed settings as JSON, already
checked. By hand, the settings come from ``config.yaml`` (or ``--config FILE``) and the
flags, checked here. Expected failures (bad settings, missing files, unreachable downloads)
print one line and exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from . import config, methods, quiet
from .config import selection, settings
from .config.checked import Config
from .errors import AtlasError
from .images import photos
from .jobs import device, lifetime
from .model.builtins import BUILT_IN
from .output import layout

# Each flag a command may take beyond --config, --settings and --outdir.
FLAGS = {
    "layer": dict(help="e.g. block5_conv1 (in a job's --settings already)"),
    "filters": dict(help="'all', 'A:B' (B excluded), '3,7,9' or '0-7,12' (default: ascend, the config's; "
                         "grid, twins, caricatures, pages, those rendered in the atlas)"),
    "steps": dict(type=int, help="steps of the ascent (default: the config's steps; 'auto' is the method's own)"),
    "size": dict(type=int, help="the picture's side in pixels (default: the config's size)"),
    "seed": dict(type=int, help="the random seed: the same seed, the same pictures (default: the config's seed)"),
    "method": dict(help="one of the methods: " + ", ".join(methods.REGISTRY)),
    "weights": dict(help="torchvision-imagenet, keras-imagenet or a .weights.h5 path"),
    "threads": dict(type=int, help="CPU threads for TensorFlow (default: all)"),
    "name": dict(required=True, help="a name from the config's dreams"),
    "remote": dict(help="the git remote to push to, e.g. origin (default: the config's publish_remote)"),
    "branch": dict(default="gh-pages", help="the branch the site is committed to (default: gh-pages)"),
    "no-push": dict(action="store_true", help="commit the branch but do not push"),
}
# Each positional argument a command may take (optional for argparse: a job's --settings needs none).
POSITIONAL = {
    "layer": dict(nargs="?", metavar="LAYER", help="e.g. block4_conv2"),
    "filters": dict(nargs="?", metavar="FILTER", help="one filter of LAYER, e.g. 7"),
    "images": dict(nargs="*", metavar="IMAGE", help="image files (or skimage:NAME) to score"),
}


@dataclass(frozen=True)
class Command:
    help: str
    settings: type | None   # the job's typed settings (None: publish takes only the outdir)
    build: Callable         # (checked config, args) -> those settings, when run by hand
    run: str                # "module:function" of the job, imported once the device is chosen
    flags: tuple[str, ...] = ()
    outdir: bool = True
    positional: tuple[str, ...] = ()
    claims: bool = True     # by hand, it writes into the atlas (the trust scorer only reads it)
    rendered: bool = False  # by hand, the layer's filters default to those rendered in the atlas
    example: str = ""       # a command line that works, for its --help


def _dream(cfg: Config, args) -> settings.DreamJob:
    if args.name not in [d.name for d in cfg.dreams]:
        raise AtlasError(f"dream: no dream named {args.name!r} in the config; "
                         f"configured: {[d.name for d in cfg.dreams]}")
    return settings.dream(cfg, args.name)


def _trust(cfg: Config, args) -> settings.TrustImages:
    """The scorer typed by hand, checked before TensorFlow loads: one line for each way it can
    be wrong (no image, not one filter, a filter the atlas lacks, no examples, an unreadable image)."""
    if not args.images:
        raise AtlasError("trust: give LAYER FILTER IMAGE..., e.g. "
                         "python -m pipeline trust --outdir atlas block4_conv2 7 lucid.png")
    chosen = cfg.filters[args.layer]
    if len(chosen) != 1:
        raise AtlasError(f"trust: FILTER = {args.filters!r} is not one filter; expected one index, e.g. 7")
    out, layer, f = cfg.outdir, args.layer, chosen[0]
    if not Path(layout.filter_json(out, layer, f)).exists():
        rendered = layout.rendered_filters(out, layer)
        have = f"rendered there: {selection.ranges(rendered)}" if rendered else f"no filter of {layer} is rendered there"
        raise AtlasError(f"trust: {layer} filter {f} is not in the atlas {out!r} ({have}); render it first, "
                         "or give --outdir")
    if not Path(layout.example_files(out, layer, f)[1]).exists():
        raise AtlasError(f"trust: the atlas {out!r} has no dataset examples for {layer} filter {f}; render it "
                         "with examples (e.g. examples=skimage, or a folder of photos) first")
    for name in args.images:
        photos.check(name, "trust: IMAGE")
        try:
            photos.open_image(name)
        except (OSError, ValueError, SyntaxError) as exc:
            raise AtlasError(f"trust: IMAGE = {name!r} cannot be read as an image ({exc}); expected a "
                             "PNG, JPEG or any file Pillow reads") from None
    return settings.TrustImages(settings.trust(cfg, layer), f, list(args.images))


COMMANDS = {
    "ascend": Command("render filters of one layer: OUTDIR/filters/LAYER/{filter:04d}.png + .json, and "
                      "their classic comparison in OUTDIR/classic/ (compare_classic)", settings.AscentJob,
                      lambda c, a: settings.ascent_job(c, a.layer, c.filters[a.layer]), "jobs.ascend:ascend",
                      ("layer", "filters", "steps", "size", "seed", "method", "weights", "threads"),
                      example="python -m pipeline ascend --layer block1_conv2 --filters 0:8 --steps 32"),
    "grid": Command("stitch a layer's rendered filters into OUTDIR/grids/LAYER.png", settings.Grid,
                    lambda c, a: settings.grid(c, a.layer), "jobs.grid:stitch_grid", ("layer", "filters"),
                    rendered=True, example="python -m pipeline grid --layer block1_conv2"),
    "twins": Command("find a layer's rotation twins among its rendered filters", settings.Twins,
                     lambda c, a: settings.twins(c, a.layer), "jobs.twins:find_twins", ("layer", "filters"),
                     rendered=True, example="python -m pipeline twins --layer block1_conv2"),
    "examples": Command("the image patches of the examples folder that excite each filter most: "
                        "OUTDIR/examples/LAYER/{filter:04d}.webp + .json", settings.Examples,
                        lambda c, a: settings.examples(c, list(c.filters)), "jobs.examples:find_examples",
                        example="python -m pipeline examples --config my.yaml"),
    "caricatures": Command("each filter's top dataset example accentuated towards it: "
                           "OUTDIR/caricatures/LAYER/{filter:04d}.png + .photo.png + .json", settings.Caricatures,
                           lambda c, a: settings.caricatures(c, a.layer), "jobs.caricatures:caricatures",
                           ("layer", "filters"), rendered=True,
                           example="python -m pipeline caricatures --layer block4_conv2"),
    "trust": Command("score IMAGEs as LAYER FILTER's positive explanation against this atlas' dataset "
                     "examples: one JSON line each, with mis and path (a Snakemake job: a layer's trust "
                     "scores, OUTDIR/trust/LAYER/{filter:04d}.json)", settings.Trust, _trust,
                     "jobs.trust:trust", positional=("layer", "filters", "images"), claims=False,
                     example="python -m pipeline trust --outdir atlas block4_conv2 7 lucid.png"),
    "pages": Command("a layer's page and its filters' pages", settings.Pages,
                     lambda c, a: settings.pages(c, a.layer), "site.pages:render_layer", ("layer", "filters"),
                     rendered=True, example="python -m pipeline pages --layer block1_conv2"),
    "site": Command("the network page, dreams and classes pages, static files", settings.Site,
                    lambda c, a: settings.site(c), "site.pages:render_network",
                    example="python -m pipeline site --outdir atlas"),
    "metrics": Command("gather every filter's numbers into OUTDIR/metrics.csv, a row per filter (columns: "
                       "docs/outputs.md)", settings.Metrics, lambda c, a: settings.metrics(c), "site.metrics:write",
                       example="python -m pipeline metrics --outdir atlas"),
    "dream": Command("dream a configured photo: OUTDIR/dreams/NAME.png", settings.DreamJob, _dream,
                     "jobs.dream:dream", ("name",), example="python -m pipeline dream --name cat"),
    "classes": Command("maximise the configured class outputs: OUTDIR/classes/", settings.Classes,
                       lambda c, a: settings.classes(c), "jobs.classes:classes",
                       example="python -m pipeline classes --config classes.yaml"),
    "weights": Command("fetch, verify and convert the network's weights; print the file", settings.WeightsSetting,
                       lambda c, a: settings.weights(c), "jobs.common:prepare_weights", outdir=False,
                       example="python -m pipeline weights --model alexnet"),
    "publish": Command("commit OUTDIR to the gh-pages branch and push it to --remote (ghp-import)", None,
                       lambda c, a: (a.outdir or c.outdir, a.remote or c.publish_remote),
                       "site.publish:publish", ("remote", "branch", "no-push"),
                       example="python -m pipeline publish --outdir atlas --remote origin"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of the commands below; python -m pipeline COMMAND --help says more")
    for name, cmd in COMMANDS.items():
        c = sub.add_parser(name, help=cmd.help, description=cmd.help[0].upper() + cmd.help[1:] + ".",
                           epilog=f"For example: {cmd.example}")
        for flag in cmd.flags:
            c.add_argument(f"--{flag}", **FLAGS[flag])
        for arg in cmd.positional:
            c.add_argument(arg, **POSITIONAL[arg])
        c.add_argument("--config", help="YAML config file (default: the repository's config.yaml)")
        if name != "publish":
            c.add_argument("--model", help=", ".join(BUILT_IN) + " or a .keras path (default: the config's model)")
        c.add_argument("--settings", help=argparse.SUPPRESS)  # the job's settings, from Snakemake
        if cmd.outdir:
            c.add_argument("--outdir", help="the atlas folder (default: the config's outdir)")
    return p


DESCRIPTION = ("Each command is one job of the atlas workflow, run by hand on the settings of config.yaml (or "
               "--config FILE) and its flags. To render an atlas, run Snakemake, as the README's first command "
               "does: snakemake --cores all --config 'layers=[block1_conv2]'")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter hides progress (and quiet)
    try:
        return _run(COMMANDS[args.command], args)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def by_hand(cmd: Command, args) -> dict:
    """The checked config of a command typed by hand: the config file, with the flags on top."""
    if "layer" in cmd.positional and not args.layer and not args.settings:
        raise AtlasError(f"{args.command}: give LAYER FILTER IMAGE..., e.g. block4_conv2 7 picture.png")
    if "layer" in cmd.flags and not args.layer:
        raise AtlasError(f"{args.command}: --layer is required, e.g. --layer block5_conv1")
    overrides = {k: getattr(args, k) for k in ("steps", "size", "seed", "method", "weights", "outdir", "model")
                 if getattr(args, k, None) is not None}
    layer = getattr(args, "layer", None)
    raw = config.read_yaml(args.config or config.DEFAULT_FILE)
    if layer:
        overrides["layers"] = [layer]  # an unknown name gets the check's one-line error
        if isinstance(raw.get("filters"), dict):
            raw["filters"] = raw["filters"].get(layer, "all")  # keep only this layer's entry
    cfg = config.check(config.merge(raw, overrides))
    if layer and getattr(args, "filters", None):  # read against the layer the checked model has
        overrides["filters"] = {layer: selection.parse(args.filters, cfg.network.layer(layer).filters)}
        cfg = config.check(config.merge(raw, overrides))
    for note in cfg.notes:  # what the check decided for the user
        print(note, file=sys.stderr)
    if cmd.outdir and cmd.settings is not None and cmd.claims:  # a command that writes into the atlas
        layout.check_outdir(cfg.outdir)
        layout.claim(cfg.outdir)
    if layer and cmd.rendered and not args.filters:  # what an ascend by hand drew, not the config's "all"
        drawn = layout.rendered_filters(cfg.outdir, layer)
        if not drawn:
            raise AtlasError(f"{args.command}: no filter of {layer} is rendered in {cfg.outdir!r}; "
                             f"render some first (python -m pipeline ascend --layer {layer} --filters 0:8)")
        cfg = replace(cfg, filters={layer: drawn})
    if layer and layer not in cfg.filters:
        raise AtlasError(f"{args.command}: the config selects no filter of {layer} "
                         f"(filters = {raw.get('filters')!r}); give --filters")
    return cfg


def _run(cmd: Command, args) -> int:
    if args.settings and cmd.settings:
        s = settings.from_json(cmd.settings, args.settings)
    else:
        s = cmd.build(by_hand(cmd, args), args)
    inner = getattr(s, "ascent", None) or getattr(s, "main", None) or getattr(s, "trust", None)
    runtime = getattr(s, "runtime", None) or getattr(inner, "runtime", None)
    if runtime:  # before the job's module starts Keras' backend, which reads both once
        os.environ["KERAS_BACKEND"] = runtime.backend
        device.choose(runtime.device)
    lifetime.watch()  # a job ends with the Snakemake that started it
    module, function = cmd.run.split(":")
    with quiet.native():  # the job's module starts TensorFlow, which says a screenful natively
        job = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        if os.environ.get("KERAS_BACKEND") == "jax" and importlib.util.find_spec("tensorflow"):
            # Keras on JAX still imports TensorFlow where installed, later (serialising a layer's
            # config), and its native chatter would land mid-log: start it here, quietly.
            importlib.import_module("tensorflow")
    if cmd.settings is None:
        result = job(*s, args.branch, not args.no_push)
    elif "threads" in cmd.flags:
        result = job(s, args.threads)
    else:
        result = job(s)
    # What the command wrote: to the terminal by hand; a Snakemake job's terminal line is its
    # end (jobs/ascend.Terminal), so there it goes to the log with the rest.
    for line in result if isinstance(result, list) else [getattr(result, "file", result)]:
        print(line, file=sys.stderr if args.settings and cmd.settings else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
