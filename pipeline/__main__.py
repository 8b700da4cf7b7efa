"""Command line: ``python -m pipeline ascend|twins|examples|grid|pages|site|dream|classes|weights|publish``.

Snakemake's jobs call these with ``--settings``: the job's typed settings as JSON, already
checked. By hand, the settings come from ``config.yaml`` (or ``--config FILE``) and the
flags, checked here. Expected failures (bad settings, missing files, unreachable downloads)
print one line and exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from .errors import AtlasError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(cmd, outdir=True):
        cmd.add_argument("--config", help="YAML config file (default: the repository's config.yaml)")
        cmd.add_argument("--settings", help=argparse.SUPPRESS)  # the job's settings, from Snakemake
        if outdir:
            cmd.add_argument("--outdir", help="the atlas folder (default: the config's outdir)")

    a = sub.add_parser("ascend", help="render filters of one layer: OUTDIR/filters/LAYER/{filter:04d}.png "
                       "+ .json, and their classic comparison in OUTDIR/classic/ (compare_classic)")
    a.add_argument("--layer", required=True, help="e.g. block5_conv1")
    a.add_argument("--filters", help="'all', 'A:B' (B excluded), '3,7,9' or '0-7,12' (default: the config's)")
    a.add_argument("--steps", type=int)
    a.add_argument("--size", type=int)
    a.add_argument("--seed", type=int)
    a.add_argument("--method", help="fourier or classic")
    a.add_argument("--weights", help="torchvision-imagenet, keras-imagenet or a .weights.h5 path")
    a.add_argument("--threads", type=int, help="CPU threads for TensorFlow (default: all)")
    common(a)

    g = sub.add_parser("grid", help="stitch a layer's rendered filters into OUTDIR/grids/LAYER.png")
    g.add_argument("--layer", required=True)
    common(g)

    tw = sub.add_parser("twins", help="find a layer's rotation twins among its rendered filters")
    tw.add_argument("--layer", required=True)
    common(tw)

    common(sub.add_parser("examples", help="the image patches of the examples folder that excite each "
                          "filter most: OUTDIR/examples/LAYER/{filter:04d}.webp + .json"))

    pg = sub.add_parser("pages", help="a layer's page and its filters' pages")
    pg.add_argument("--layer", required=True)
    common(pg)

    common(sub.add_parser("site", help="the network page, dreams and classes pages, static files"))

    d = sub.add_parser("dream", help="dream a configured photo: OUTDIR/dreams/NAME.png")
    d.add_argument("--name", required=True, help="a name from the config's dreams")
    common(d)

    common(sub.add_parser("classes", help="maximise the configured class outputs: OUTDIR/classes/"))

    pub = sub.add_parser("publish", help="commit OUTDIR to the gh-pages branch and push it (ghp-import)")
    pub.add_argument("--remote", default="origin")
    pub.add_argument("--branch", default="gh-pages")
    pub.add_argument("--no-push", action="store_true", help="commit the branch but do not push")
    common(pub)

    common(sub.add_parser("weights", help="fetch, verify and convert the weights; print the file"), outdir=False)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter hides progress
    try:
        return _run(args)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def filter_spec(spec: str, count: int) -> list[int] | str:
    """``all``, ``A:B`` (B excluded), or comma-separated indices and ranges: ``3,7,9``, ``0-7,12``."""
    if spec == "all":
        return "all"
    try:
        if ":" in spec:
            lo, hi = spec.split(":", 1)
            return list(range(int(lo) if lo else 0, int(hi) if hi else count))
        out = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return out
    except ValueError:
        raise AtlasError(f"--filters {spec!r} is not allowed; expected 'all', 'A:B', '3,7,9' or '0-7,12'") from None


def _run(args) -> int:
    from . import config, settings, vgg16

    cfg = None
    if not args.settings:  # by hand: the config file and the flags, checked once here
        overrides = {k: getattr(args, k) for k in ("steps", "size", "seed", "method", "weights", "outdir")
                     if getattr(args, k, None) is not None}
        if getattr(args, "layer", None):
            overrides["layers"] = [args.layer]  # an unknown name gets the schema's one-line error
            if getattr(args, "filters", None) and args.layer in vgg16.BY_NAME:
                overrides["filters"] = {args.layer: filter_spec(args.filters, vgg16.layer(args.layer).filters)}
        raw = config.read_yaml(args.config or config.DEFAULT_FILE)
        if "layers" in overrides and isinstance(raw.get("filters"), dict):
            raw["filters"] = raw["filters"].get(args.layer, "all")  # keep only this layer's entry
        cfg = config.check(config.merge(raw, overrides))
        if getattr(args, "layer", None) and args.layer not in cfg["filters"]:
            raise AtlasError(f"{args.command}: the config selects no filter of {args.layer} "
                             f"(filters = {raw.get('filters')!r}); give --filters")

    kinds = {"weights": (settings.Weights, settings.weights),
             "ascend": (settings.AscentJob, lambda c: settings.ascent_job(c, args.layer)),
             "grid": (settings.Grid, lambda c: settings.grid(c, args.layer)),
             "twins": (settings.Twins, lambda c: settings.twins(c, args.layer)),
             "examples": (settings.Examples, settings.examples),
             "pages": (settings.Pages, lambda c: settings.pages(c, args.layer)),
             "site": (settings.Site, settings.site),
             "dream": (settings.DreamJob, lambda c: settings.dream(c, args.name)),
             "classes": (settings.Classes, settings.classes)}
    if args.command == "publish":
        from .publish import publish

        print(publish(args.outdir or cfg["outdir"], args.remote, args.branch, not args.no_push))
        return 0
    if args.command == "dream" and cfg and args.name not in [d["name"] for d in cfg["dreams"]]:
        raise AtlasError(f"dream: no dream named {args.name!r} in the config; "
                         f"configured: {[d['name'] for d in cfg['dreams']]}")
    kind, build = kinds[args.command]
    s = settings.from_json(kind, args.settings) if args.settings else build(cfg)
    inner = getattr(s, "ascent", None) or getattr(s, "main", None)
    on = getattr(s, "device", None) or getattr(inner, "device", None)
    if on:
        from . import device

        device.choose(on)  # before anything imports TensorFlow, which reads the choice once
    if args.command in ("pages", "site"):  # no TensorFlow: page jobs start in a fraction of a second
        from . import site

        print(site.render_layer(s) if args.command == "pages" else site.render_network(s))
        return 0
    from . import jobs

    if args.command == "weights":
        print(jobs.prepare_weights(s).file)
    elif args.command == "ascend":
        filters = filter_spec(args.filters, vgg16.layer(args.layer).filters) if args.settings \
            else cfg["filters"][args.layer]
        print(jobs.ascend(s, args.layer, filters, args.outdir or cfg["outdir"], args.threads))
    elif args.command == "twins":
        print(jobs.find_twins(s))
    elif args.command == "examples":
        print(jobs.find_examples(s))
    elif args.command == "grid":
        print(jobs.stitch_grid(s))
    elif args.command == "dream":
        jobs.dream(s)
    elif args.command == "classes":
        jobs.classes(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
