"""Dataset examples: images per second on a generated folder, and what 50,000 images would take.

Writes a folder of images of mixed sizes and formats (default 2,000; JPEG, PNG and WebP, 160 to
640 px a side), then runs the examples pass exactly as the pipeline does (every conv layer in
one model, the running top 9 per filter, shorter side 224) and prints images per second, the
time spent decoding against the network, and the peak memory. From those it estimates 50,000
images (ImageNet's validation set) on this machine and, from FLOPs, on one H100: an
**estimate**, not a measurement.

    python bench/examples.py                 # about 10 minutes on 2 CPU cores
    python bench/examples.py --images 300    # a quick look
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config.estimate import GPU_FLOPS as H100_FLOPS  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.images import folder  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.measure import examples  # noqa: E402
from pipeline.model import description, network  # noqa: E402
from pipeline.model import weights  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure



def generate(folder: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(160, 641, 2))
        # Smooth colour fields: cheap to make, and not constant (JPEG must do real work).
        small = rng.integers(0, 256, (max(2, h // 32), max(2, w // 32), 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((w, h), Image.BILINEAR)
        img.save(folder / f"{i:05d}.{('jpg', 'png', 'webp')[i % 3]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--side", type=int, default=224)
    args = p.parse_args()

    cfg = config.load()
    resolved = prepare_weights(settings.weights(cfg))
    model = network.all_convs_model(weights.load_base(resolved, VGG16), [l.name for l in VGG16.layers])
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        t0 = time.perf_counter()
        generate(where, args.images)
        print(f"generated {args.images} images in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        found, _ = folder.sources(str(where))
        t0 = time.perf_counter()
        sizes = [folder.load(s, args.side)[0].shape for s in found[:200]]
        decode = (time.perf_counter() - t0) / 200
        # Tracing (a few seconds, shapes generalise after the second) counts: a job pays it too.
        result = examples.Scanner(model, list(VGG16.layers), resolved.preprocess, 9, False).scan(str(where), args.side)
    rate = len(found) / result.seconds
    pixels = float(np.mean([h * w for h, w, _ in sizes]))
    # Per image, forward only: each conv's multiply-adds per input pixel, over its stride squared.
    flops = sum(2 * 9 * l.in_channels * l.filters * pixels / l.stride ** 2 for l in VGG16.layers)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_50k = 50_000 / rate
    gpu_arith = 50_000 * flops / H100_FLOPS
    decode_16 = 50_000 * decode / 16  # one H100 box: 16 cores decoding
    print(f"\n{len(found)} images, shorter side {args.side} px (mean {pixels / 1e3:.0f} kpx), on "
          f"{os.cpu_count()} CPU cores\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| images per second, this machine | {rate:.1f} |")
    print(f"| decoding and resizing, per image, one core | {decode * 1e3:.0f} ms |")
    print(f"| network, per image | {flops / 1e9:.1f} GFLOP forward |")
    print(f"| peak resident memory | {peak:.0f} MiB |")
    print(f"| 50,000 images, this machine | {cpu_50k / 3600:.1f} h (measured rate) |")
    print(f"| 50,000 images, one H100 | about {max(gpu_arith, decode_16) / 60:.0f} min (estimate: "
          f"{gpu_arith:.0f} s of arithmetic at 400 TFLOP/s, {decode_16:.0f} s of decoding on 16 cores) |")


if __name__ == "__main__":
    main()
