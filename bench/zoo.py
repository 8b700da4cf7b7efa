"""The network a user brings, tried as a user would: every architecture that ships with Keras
(built without weights: nothing is downloaded) and the shapes users' own models take, each
through the README's command at tiny settings, or refused by the parse-time check.

    python bench/zoo.py [--out DIR] [NAME ...]

For each model: its convs and filters as the atlas lists them, then a real Snakemake run of
its first, middle and last conv (2 filters each, 4 steps, the examples, trust, caricatures and
the default dream included), and the wall time of that run on this machine. Prints the
markdown table docs/running.md shows. Random weights: the pictures mean nothing, the run
proves every job works on the architecture.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras_zoo() -> dict:
    """name -> a function that builds the model (Keras imported late: --help stays quick)."""
    def app(name, shape=(None, None, 3)):
        def build():
            import keras
            return getattr(keras.applications, name)(weights=None, include_top=False, input_shape=shape)
        return build

    return {
        "ResNet50": app("ResNet50"),
        "MobileNetV2 (96 px)": app("MobileNetV2", (96, 96, 3)),
        "DenseNet121": app("DenseNet121"),
        "EfficientNetB0": app("EfficientNetB0"),
        "InceptionV3": app("InceptionV3"),
        "Xception": app("Xception"),
        "ConvNeXtTiny": app("ConvNeXtTiny"),
        "own: unnamed layers, 64 px": own_unnamed,
        "own: a backbone in a head": own_nested,
        "own: greyscale digits, 32x32x1": lambda: own_channels(1, 32),
        "own: RGB and one more band": lambda: own_channels(4, None),
    }


# What a user must say beside the README's command: how RGB photos become four bands.
SAID = {"own: RGB and one more band": ["photo_bands=rgb+luminance"]}


def own_unnamed():
    import keras
    layers = keras.layers
    inputs = keras.Input((64, 64, 3))
    x = layers.ReLU()(layers.Conv2D(8, 3, padding="same")(inputs))
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(x)))
    x = layers.MaxPooling2D()(layers.ReLU()(layers.Add()([x, y])))
    x = layers.GlobalAveragePooling2D()(layers.ReLU()(layers.Conv2D(16, 3)(x)))
    return keras.Model(inputs, layers.Dense(10)(x))


def own_nested():
    import keras
    layers = keras.layers
    backbone = keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(8, 3, activation="relu", name="conv1"),
                                 layers.MaxPooling2D(), layers.Conv2D(16, 3, activation="relu", name="conv2")],
                                name="backbone")
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(16, 1, activation="relu", name="head_conv")(backbone(inputs))
    return keras.Model(inputs, layers.Dense(5)(layers.GlobalAveragePooling2D()(x)), name="nested")


def own_channels(channels: int, side: int | None):
    import keras
    layers = keras.layers
    inputs = keras.Input((side, side, channels))
    x = layers.Conv2D(16, 3, activation="relu")(layers.MaxPooling2D()(layers.Conv2D(8, 3, activation="relu")(inputs)))
    return keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(x)))


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/atlas-zoo"), help="where models and atlases go")
    parser.add_argument("names", nargs="*", help="only these (a part of the name is enough)")
    args = parser.parse_args()
    from pipeline.errors import AtlasError
    from pipeline.model import description

    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, build in keras_zoo().items():
        if args.names and not any(n.lower() in name.lower() for n in args.names):
            continue
        path = args.out / f"{slug(name)}.keras"
        if not path.exists():
            build().save(path)
        try:
            net = description.of(str(path), args.out / "cache")
        except AtlasError as exc:
            rows.append(f"| {name} | - | - | refused at parse time: {str(exc).split('; ', 1)[-1]} | - |")
            print(rows[-1], flush=True)
            continue
        kinds = Counter(lyr.kind for lyr in net.layers if lyr.kind != "conv")
        picked = list(dict.fromkeys([net.layers[0].name, net.layers[len(net.layers) // 2].name, net.layers[-1].name]))
        size = net.input_size or max(net.min_size, 32)
        workdir = args.out / slug(name)
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                               "--cores", "2", "--config", f"model={path}", f"layers=[{','.join(picked)}]",
                               "filters=2", "steps=4", f"size={size}", "preprocess=unit", "caricatures=True",
                               "caricatures_steps=2", "examples_top=2", f"cache={args.out / 'cache'}",
                               *SAID.get(name, [])],
                              capture_output=True, text=True)
        seconds = time.monotonic() - start
        estimate = next((line for line in proc.stderr.splitlines() if line.startswith("estimate:")), "")
        also = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        result = "drawn" if proc.returncode == 0 else f"FAILED ({_last_error(proc.stderr)})"
        said = f" ({' '.join(SAID[name])})" if name in SAID else ""
        rows.append(f"| {name} | {len(net.layers)}{f' ({also})' if also else ''} | {net.total_filters:,} | "
                    f"{result}{said}, {size} px | {seconds:.0f} s |")
        print(rows[-1], f"[{estimate}]", flush=True)
        (workdir / "zoo.json").write_text(json.dumps({"seconds": seconds, "estimate": estimate}))
    print("\n| model | convs | filters | result | 3 layers x 2 filters, every job |\n|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "Error" in line or line.startswith("error:")]
    return (lines or ["see the log"])[-1][:160]


if __name__ == "__main__":
    sys.exit(main())
