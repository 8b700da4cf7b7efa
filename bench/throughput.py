"""Ascent throughput: ours against Chollet 2016's loop and tf-keras-vis, and against the hardware.

For one layer per block, a fixed set of filters, the same steps and size, it times in one
process (after a warm-up, median of several runs):

  ours          the pipeline's batched ascent (classic method: Chollet 2016's settings), float32
  ours+xla      the same with the step loop compiled by XLA (with --xla)
  ours-bf16     the same in bfloat16 (weights stay float32)
  Chollet loop  Chollet's loop: one filter at a time, a host round trip every step
  tf-keras-vis  ActivationMaximization, its defaults, the same filters/steps/size in one call
                (its best case: every filter in one batch)
  tf-keras-vis 1/call  the same, one call per filter, as its own example visualises a filter
  float32 bound the time our executed work would take at the float32 matmul rate: the limit
                for this work in float32 on this machine, short of a cheaper convolution
                algorithm (docs/benchmarks.md: Winograd in TF ops is slower)
(tf-keras-vis only where installed: pip install -r bench/requirements.txt)

and prints filters per second, the ratios, and FLOP rates against large float32 and bfloat16
matrix products timed in the same run. Two counts: "floor" is the work as usually defined
(forward to the target layer plus the gradient to the input, 2x forward, per step);
"executed" is what ours runs: steps that skip the target conv itself
(objectives.ConvMeanHead), plus two full forward passes that measure the start and the
result. The "of matmul" column divides the FLOPs each variant executes by the float32
matmul rate.

    python bench/throughput.py                  # ~15 minutes on 2 CPU cores
    python bench/throughput.py --quick          # two layers, fewer repeats
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline import config  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.jobs.common import prepare_weights  # noqa: E402
from pipeline.model import description, network  # noqa: E402
from pipeline.model.preprocess import preprocess  # noqa: E402
from pipeline.model import weights  # noqa: E402
from pipeline.optvis import render  # noqa: E402

VGG16 = description.of("vgg16", Path())  # the network these benches measure

LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
QUIET = open(os.devnull, "w")


def timed(fn, repeats: int) -> float:
    fn()  # warm-up: tracing and compilation are start-up cost, not throughput
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_rate(dtype: str = "float32", n: int = 4096, repeats: int = 5) -> float:
    """FLOP/s of a large matrix product: the machine's practical peak for that dtype."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal((n, n)), dtype)
    b = tf.cast(tf.random.normal((n, n)), dtype)
    mm = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
    return 2 * n ** 3 / timed(lambda: mm().numpy(), repeats)


def chollet_loop(base, layer_name: str, knobs: dict, size: int, steps: int, mode: str):
    """Chollet's method as he ran it: post-ReLU layer output, one filter, a compiled
    loss-and-gradient function called from Python every step."""
    import keras
    import tensorflow as tf

    model = keras.Model(base.input, base.get_layer(layer_name).output)

    @tf.function(autograph=False)  # plain tensor code; AutoGraph only warns about the closure
    def iterate(x, f):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(model(preprocess(x, mode))[..., f])
        g = tape.gradient(loss, x)
        return loss, g / (tf.sqrt(tf.reduce_mean(tf.square(g))) + 1e-5)

    def run(filters):
        for f in filters:
            rng = np.random.default_rng(f)
            x = rng.normal(knobs["init_mean"], knobs["init_std"], (1, size, size, 3)).astype(np.float32)
            for _ in range(steps):
                _, g = iterate(tf.constant(x), tf.constant(f))
                x += g.numpy() * knobs["step_size"]
    return run


def tf_keras_vis(base, layer_name: str, size: int, steps: int, batched: bool):
    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer, ReplaceToLinear
        from tf_keras_vis.utils.scores import CategoricalScore
    except ImportError:
        return None
    import tensorflow as tf

    am = ActivationMaximization(base, model_modifier=[ExtractIntermediateLayer(layer_name),
                                                      ReplaceToLinear()], clone=True)

    def call(filters):
        seed = tf.random.uniform((len(filters), size, size, 3), 0, 255, seed=0)
        am(CategoricalScore(list(filters)), steps=steps, seed_input=seed)

    def run(filters):
        if batched:
            call(filters)
        else:
            for f in filters:
                call([f])
    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--filters", type=int, default=8)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--layers", nargs="+", choices=LAYERS, help="a subset of the five layers")
    p.add_argument("--xla", action="store_true", help="also time the XLA-compiled step loop "
                   "(slower on CPUs: 4-10x at block2 and deeper, measured)")
    args = p.parse_args()
    layers = args.layers or (LAYERS[1::3] if args.quick else LAYERS)
    repeats = 1 if args.quick else args.repeats

    import tensorflow as tf

    cfg = config.load(overrides={"method": "classic", "size": args.size})
    resolved = prepare_weights(settings.weights(cfg))
    base = weights.load_base(resolved, VGG16)
    knobs = cfg.section("classic")
    filters = list(range(args.filters))
    peak, peak_bf16 = matmul_rate("float32"), matmul_rate("bfloat16")
    device = "GPU " + tf.config.list_physical_devices("GPU")[0].name if tf.config.list_physical_devices("GPU") \
        else f"CPU, {os.cpu_count()} cores"
    print(f"device: {device}; TensorFlow {tf.__version__}; matmul 4096^3: float32 {peak / 1e9:.0f} GFLOP/s, "
          f"bfloat16 {peak_bf16 / 1e9:.0f} GFLOP/s")
    print(f"{len(filters)} filters per layer, {args.steps} steps, {args.size} px, median of {repeats}\n")
    print("| layer | variant | filters/s | s/filter | × tf-keras-vis | × tf-keras-vis 1/call | × Chollet loop "
          "| floor GFLOP/s | executed GFLOP/s | of matmul |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for layer_name in layers:
        lyr = VGG16.layer(layer_name)
        forward = VGG16.flops_to(layer_name, args.size) * len(filters)
        flops = args.steps * 2 * forward
        # Ours skips the target conv in every step but runs the whole forward twice more to
        # measure the start and the result.
        done = flops - args.steps * 2 * lyr.flops(args.size) * len(filters) + 2 * forward
        runs = {}
        variants = [("ours", "float32", False), ("ours-bf16", "mixed_bfloat16", False)]
        if args.xla:
            variants.append(("ours+xla", "float32", True))
        for name, dtype, jit in variants:
            s = replace(settings.ascent(cfg, layer_name), jit=jit)
            r = render.for_filters(network.cut_model(base, layer_name, dtype), lyr, s, resolved.preprocess)
            runs[name] = timed(lambda r=r: r.render(filters, args.steps, progress=render.Progress(log=QUIET, segment=args.steps)), repeats)
        loop = chollet_loop(base, layer_name, knobs, args.size, args.steps, resolved.preprocess)
        runs["Chollet loop"] = timed(lambda: loop(filters), 1)
        for name, batched in (("tf-keras-vis", True), ("tf-keras-vis 1/call", False)):
            tkv = tf_keras_vis(base, layer_name, args.size, args.steps, batched)
            if tkv is not None:
                runs[name] = timed(lambda: tkv(filters), 1)
        runs["float32 bound"] = done / peak
        for name, secs in runs.items():
            executed = (done if name.startswith(("ours", "float32")) else flops) / secs
            ratios = [f"{runs[ref] / secs:.1f}" if ref in runs else "n/a"
                      for ref in ("tf-keras-vis", "tf-keras-vis 1/call", "Chollet loop")]
            print(f"| {layer_name} | {name} | {len(filters) / secs:.2f} | {secs / len(filters):.3f} | "
                  f"{' | '.join(ratios)} | {flops / secs / 1e9:.0f} | {executed / 1e9:.0f} | "
                  f"{executed / peak:.0%} |", flush=True)
    print(f"\npeak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
