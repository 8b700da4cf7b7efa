"""Command line: ``python -m pipeline ascend|grid|site|weights``. Snakemake jobs call these too.

Expected failures (bad settings, missing files, unreachable downloads) print one line and exit
2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from .errors import AtlasError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(cmd):
        cmd.add_argument("--config", help="YAML config file (default: the repository's config.yaml)")
        cmd.add_argument("--settings", help=argparse.SUPPRESS)  # full config as JSON, from Snakemake

    a = sub.add_parser("ascend", help="render filters of one layer to DIR/{filter:04d}.png + .json")
    a.add_argument("--layer", required=True, help="e.g. block5_conv1")
    a.add_argument("--filters", help="'all', 'A:B' (B excluded) or '3,7,9' (default: the config's)")
    a.add_argument("--out", required=True, help="output folder")
    a.add_argument("--steps", type=int)
    a.add_argument("--size", type=int)
    a.add_argument("--seed", type=int)
    a.add_argument("--method", help="fourier or classic")
    a.add_argument("--weights", help="torchvision-imagenet, keras-imagenet or a .weights.h5 path")
    a.add_argument("--threads", type=int, help="CPU threads for TensorFlow (default: all)")
    common(a)

    g = sub.add_parser("grid", help="stitch a layer's rendered filters into {outdir}/grids/{layer}.png")
    g.add_argument("--layer", required=True)
    g.add_argument("--filters", help="as for ascend (default: the config's)")
    common(g)

    d = sub.add_parser("dream", help="dream a configured photo: {outdir}/dreams/{name}.png")
    d.add_argument("--name", required=True, help="a name from the config's dreams")
    common(d)

    c = sub.add_parser("classes", help="maximise the configured class outputs: {outdir}/classes/")
    common(c)

    s = sub.add_parser("site", help="render the static atlas into {outdir}")
    common(s)

    pub = sub.add_parser("publish", help="commit {outdir} to the gh-pages branch and push it (ghp-import)")
    pub.add_argument("--outdir", help="the rendered atlas (default: the config's outdir)")
    pub.add_argument("--remote", default="origin")
    pub.add_argument("--branch", default="gh-pages")
    pub.add_argument("--no-push", action="store_true", help="commit the branch but do not push")
    common(pub)

    w = sub.add_parser("weights", help="fetch, verify and convert the weights; print the file")
    common(w)
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


def _run(args) -> int:
    from . import jobs

    overrides = {}
    if args.command in ("ascend", "grid"):
        overrides["layers"] = [args.layer]
        if args.filters:
            overrides["filters"] = {args.layer: jobs.selection_arg(args.filters, args.layer)}
    for key in ("steps", "size", "seed", "method", "weights"):
        if getattr(args, key, None) is not None:
            overrides[key] = getattr(args, key)
    cfg = jobs.load_cfg(args.config, args.settings, overrides)

    if args.command == "publish":
        from .publish import publish

        print(publish(args.outdir or cfg["outdir"], args.remote, args.branch, not args.no_push))
    elif args.command == "weights":
        print(jobs.prepare_weights(cfg).file)
    elif args.command == "ascend":
        if args.threads:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        from .config import selection

        jobs.ascend(cfg, args.layer, selection(cfg)[args.layer], args.out)
    elif args.command == "grid":
        from .config import selection

        print(jobs.stitch_grid(cfg, args.layer, selection(cfg)[args.layer]))
    elif args.command == "dream":
        names = [d["name"] for d in cfg["dreams"]]
        if args.name not in names:
            raise AtlasError(f"dream: no dream named {args.name!r} in the config; configured: {names}")
        jobs.dream(cfg, args.name)
    elif args.command == "classes":
        jobs.classes(cfg)
    elif args.command == "site":
        from . import site

        site.render(cfg)
        print(f"{cfg['outdir']}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
