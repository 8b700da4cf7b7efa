"""How long an atlas takes, from its arithmetic: FLOPs counted from the network, over a rate.

A step costs about twice the forward pass up to the target layer (the forward, then the
gradient with respect to the input; no weight gradients). A method that pads its image before
the network sees it pays for the padded side (``Method.side``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from functools import lru_cache

from .. import methods
from ..model import description
from ..model.builtins import LPIPS_BACKBONE
from ..model.description import Network
from ..output import layout
from . import settings
from .checked import Config

# float32 on the 2-core build machine at depth (190 GFLOP/s), measured on an earlier step loop:
# the rate the jobs beside the ascents are planned on (the ascents have theirs: F32_CPU).
CPU_FLOPS_PER_CORE = 95e9


def ascent_flops(net: Network, layer: str, steps: int, side: int) -> float:
    return 2.0 * net.flops_to(layer, side) * steps


@lru_cache(maxsize=1)
def lpips_vgg() -> Network:
    """VGG16, whose convs LPIPS measures with whatever network the atlas studies."""
    return description.of(LPIPS_BACKBONE, Path())


def render_flops(net: Network, layer: str, s: settings.Ascent) -> float:
    """Executed FLOPs of one filter of a render: each of its pictures (diversity, the negative)."""
    side = methods.get(s.method).side(s.knobs, s.size)
    return (s.diversity + s.negative) * ascent_flops(net, layer, s.steps, side)


def renders(cfg: Config, layer: str) -> list[settings.Ascent]:
    """What one ascent job of ``layer`` draws: the main render, and the classic comparison."""
    job = settings.ascent_job(cfg, layer, [])
    return [job.main] + ([job.classic] if job.classic else [])


def chunk_flops(cfg: Config, layer: str, filters: int) -> float:
    """Executed FLOPs of one ascent job: ``filters`` of ``layer``, and their classic comparison."""
    return filters * sum(render_flops(cfg.network, layer, s) for s in renders(cfg, layer))


def atlas_flops(cfg: Config) -> float:
    """Executed FLOPs of every ascent the checked config asks for (the classic comparison too)."""
    return sum(chunk_flops(cfg, layer, len(filters)) for layer, filters in cfg.filters.items())


def trust_flops(cfg: Config, layer: str, filters: int, images: int) -> float:
    """One trust job (``measure/trust.py``): every pool image and picture through LPIPS' VGG16
    at 64 px (a picture as 9 windows where the layer's receptive field is smaller than it), the
    layer's comparison set of other pictures once, the top examples and the picture through the
    convs up to ``layer`` at the layer's receptive field, and the path's calibration once: 128
    random windows of the photos through the same convs (``interpretability.REFERENCE``; a
    window is the field, up to about twice a photo's side: ``interpretability.window``)."""
    net, lpips = cfg.network, lpips_vgg().flops_to("block5_conv3", 64)
    pool = min(2 * cfg.examples_top, images // 2)
    rf = net.layer(layer).receptive_field
    windows = 9 if rf < cfg.size else 1
    pictures = (cfg.diversity + cfg.negative) * windows
    view = min(rf, round(2 * cfg.examples_side * 4 / 3))  # photos are about 4:3
    compared = min(filters, 33) * windows  # measure/interpretability.comparison_set, embedded once
    return (filters * ((2 * pool + pictures) * lpips + (min(cfg.examples_top, pool) + 1) * net.flops_to(layer, view))
            + compared * lpips + CALIBRATION * net.flops_to(layer, view))


def duration(seconds: float) -> str:
    """A time as people say it: seconds up to 2 minutes, minutes up to 2 hours, then hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def on_cpu(cfg: Config, cores: int, cpu_flag: str | None = None) -> str:
    """The ascents of the whole config on this CPU, at the backend's and precision's speed."""
    dev = device(0, cores, None, cfg.backend, planned_precision(cfg.precision, 0, cpu_flag),
                 cfg.precision == "auto")
    net = cfg.network
    return duration(sum(chunk_flops(cfg, layer, len(fs)) / dev.ascent_rate(layer, net.depth(layer))
                        for layer, fs in cfg.filters.items()))


# What a job costs beside its arithmetic, measured on the 2-core build machine
# (bench/jobs.py and a first run of one layer): start-up (TensorFlow, weights, model), tracing
# the step loop per render, a twins search, and an examples job's crops and mosaics per filter.
START, TRACE, TWIN, MOSAIC = 7.0, 1.5, 0.02, 0.02
TWIN_PASSES = 5  # a twins job's forward passes of each picture: as drawn and measure/twins.TRANSFORMS
# Building and tracing a cut costs more the more layers it holds: per conv upstream of the
# target, per render (measured on five Keras architectures of 40 to 120 convs, bench/zoo.py:
# VGG16's layers average 6 upstream, which TRACE and GRAPH together give the 2.3 s measured).
GRAPH = 0.14
# A step's work beside the network, per pixel of a picture: 1.5 ms a step for a 128 px picture
# on the 2-core build machine (VGG16's block1_conv1, 64 filters, where the network's share is
# least), as FLOPs at its 190 GFLOP/s: on a GPU it is nothing, as it should be.
PIXEL_FLOPS = 1.5e-3 / 128 ** 2 * 190e9
CALIBRATION = 128   # windows the trust job's path is calibrated on (interpretability.REFERENCE)
EXAMPLE_FLOPS = 53e9   # one 224 px image through all of VGG16's 13 convs (bench/examples.py)
GPU_FLOPS = 400e12     # dense TF32 on one H100: an assumption until the atlas is timed on a GPU
SLOW_GPU_FLOPS = 20e12  # what a cluster's time limit plans for: the slowest GPU it may land on
# The ascents' speed on the 2-core build machine, measured at one layer of each of VGG16's five
# blocks, kept by relative depth (0 the first conv, 1 the last): a band of depths for each
# block, up to halfway to the next block's first layer (VGG16's block 1 is 0 and 1/12, block 2
# begins at 2/12: up to 1.5/12), so that any network's layer takes the speed of VGG16's layer
# nearest its depth. From whole jobs, not a bench's small batches (bench/atlas.py: 32 filters a
# layer in float32, 64 in bfloat16, the README's command, every job): TensorFlow's float32 in
# FLOP/s per core, bfloat16 where the CPU computes it natively against that float32 (the
# classic comparison in the job's precision); and Keras on JAX's CPU build against TensorFlow
# (bench/backends.py, float32; its bfloat16 is not measured, so planned at its float32 speed).
BANDS = (1.5 / 12, 3.5 / 12, 6.5 / 12, 9.5 / 12, 1.0)
F32_CPU = tuple(zip(BANDS, (334e9, 182e9, 154e9, 160e9, 150e9)))  # FLOP/s per core
BF16_CPU = tuple(zip(BANDS, (1.13, 2.12, 4.91, 5.48, 4.01)))  # against F32_CPU
# Passes forward alone, float32 batches of pictures and photos (the trust job's LPIPS and paths,
# the twins' turned copies), against CPU_FLOPS_PER_CORE (bench/atlas.py: the trust and twins
# jobs of five layers at 64 filters, the rate from how their seconds grow with their FLOPs);
# and what the trust job spends on each filter beside its arithmetic (fitted on the same jobs
# and an earlier run's at 16 filters), as FLOPs at the CPU's rate, so that a GPU plans it at
# its own pace.
FORWARD_CPU = 1.6
TRUST_FILTER_FLOPS = 0.42 * CPU_FLOPS_PER_CORE * 2
JAX_CPU = tuple(zip(BANDS, (1 / 3.09, 1 / 3.7, 1 / 4.32, 1 / 4.26, 1 / 4.21)))
BF16_GPU = 2.0  # bfloat16 tensor cores against TF32, as the datasheets give it: an estimate


def planned_precision(setting: str, gpus: int, cpu_flag: str | None) -> str:
    """The precision the ascents will run in, as far as parse time can tell: ``auto`` is
    bfloat16 on a GPU (an estimate: the job decides on its own GPU) and on a CPU with native
    bfloat16 (``cpu_flag``)."""
    if setting != "auto":
        return setting
    return "bfloat16" if gpus or cpu_flag else "float32"


def at_depth(table: tuple[tuple[float, float], ...], depth: float) -> float:
    """The value of the band of ``table`` ((up to depth, value), ...) that ``depth`` falls in."""
    return next((value for upto, value in table if depth < upto), table[-1][1])


@dataclass(frozen=True)
class Speed:
    """The ascents' speed against TensorFlow's float32 on the same device, by relative depth."""

    backend: str = "tensorflow"
    precision: str = "float32"
    gpu: bool = False

    def at(self, depth: float) -> float:
        bf16 = self.precision == "bfloat16"
        if self.gpu:
            return BF16_GPU if bf16 else 1.0
        out = at_depth(F32_CPU, depth) / CPU_FLOPS_PER_CORE
        out *= at_depth(BF16_CPU, depth) if bf16 and self.backend == "tensorflow" else 1.0
        return out * (at_depth(JAX_CPU, depth) if self.backend == "jax" else 1.0)

    def forward(self) -> float:
        """Passes forward alone in float32 (trust, twins), against the device's rate."""
        return 1.0 if self.gpu else FORWARD_CPU


@dataclass(frozen=True)
class Device:
    """Where the run's GPU jobs go: a rate per job, how many run at once, and what says so."""

    name: str         # e.g. "this CPU (2 cores)", "2 GPUs"
    rate: float       # FLOP/s of one job
    parallel: int     # jobs at once
    basis: str        # "the build machine's measured rate", "an H100's rate: an estimate"
    measured: dict = field(default_factory=dict)  # layer -> FLOP/s an earlier run reached there
    speed: Speed = field(default_factory=Speed)   # the ascents' speed against ``rate``

    def ascent_rate(self, layer: str, depth: float) -> float:
        """FLOP/s of ``layer``'s ascents (at relative ``depth``): an earlier run's there, else
        the rate at this backend and precision."""
        return self.measured.get(layer) or self.rate * self.speed.at(depth)

    @property
    def forward_rate(self) -> float:
        """FLOP/s of passes forward alone in float32: the trust scores', the twins'."""
        return self.rate * self.speed.forward()


def device(gpus: int, cores: int, measured: dict | None = None, backend: str = "tensorflow",
           precision: str = "float32", auto: bool = False) -> Device:
    """The device this run's jobs will use, and the rate to plan on: per layer, the rate an
    earlier run reached there in this precision; elsewhere the build machine's (CPU) or an
    H100's (GPU, an estimate), at the backend's and precision's measured speed."""
    measured = measured or {}
    also = f"; {len(measured)} layer{'s' if len(measured) != 1 else ''} at an earlier run's rate" if measured else ""
    how = (f", {precision} (precision auto)" if auto and precision == "bfloat16" else f", {precision}") \
        + (", JAX" if backend == "jax" else "")
    if gpus:
        return Device(f"{gpus} GPU{'s' if gpus > 1 else ''}", GPU_FLOPS, gpus,
                      f"an H100's rate{how}: an estimate{also}", measured, Speed(backend, precision, True))
    return Device(f"this CPU ({cores} cores)", CPU_FLOPS_PER_CORE * max(1, cores), 1,
                  f"the build machine's measured rate{how}{also}", measured, Speed(backend, precision, False))


def tracing(net: Network, layer: str) -> float:
    """Seconds to build and trace one cut of ``net`` up to ``layer``."""
    return TRACE + GRAPH * len(net.layer(layer).upstream)


def picture_flops(cfg: Config, layer: str, filters: int) -> float:
    """What an ascent job's steps cost beside the network (the parameterisation, the moves, the
    update), in FLOPs at the rate the network's are counted: per pixel of each picture, each step."""
    return filters * PIXEL_FLOPS * sum((s.diversity + s.negative) * s.steps * methods.get(s.method).side(s.knobs, s.size) ** 2
                                       for s in renders(cfg, layer))


def job_overhead(cfg: Config, layer: str, filters: int, dev: Device) -> float:
    """What one ascent job spends beside the network's arithmetic: start-up, tracing each
    render, and the pictures' own work (bench/atlas.py takes it off a measured job to find the
    rate)."""
    # A rate an earlier run measured at this layer already holds the pictures' own work.
    pictures = 0.0 if layer in dev.measured else picture_flops(cfg, layer, filters) / dev.rate
    return START + tracing(cfg.network, layer) * len(renders(cfg, layer)) + pictures


def job_seconds(cfg: Config, layer: str, filters: int, dev: Device) -> float:
    """One ascent job, start-up, tracing and the pictures' own arithmetic included."""
    rate = dev.ascent_rate(layer, cfg.network.depth(layer))
    return job_overhead(cfg, layer, filters, dev) + chunk_flops(cfg, layer, filters) / rate


def trust_seconds(cfg: Config, layer: str, filters: int, images: int, dev: Device) -> float:
    """One trust job: start-up, each filter's own work, and its arithmetic (passes forward alone)."""
    return START + filters * TRUST_FILTER_FLOPS / dev.rate + trust_flops(cfg, layer, filters, images) / dev.forward_rate


def twins_seconds(cfg: Config, layer: str, filters: int, dev: Device) -> float:
    """One twins job: start-up, reading the pictures, and each picture and its four turned
    copies through the convs up to ``layer`` (``measure/twins.py``)."""
    return START + TWIN * filters + TWIN_PASSES * filters * cfg.network.flops_to(layer, cfg.size) / dev.forward_rate


def dream_seconds(cfg: Config, d, dev: Device) -> float:
    """One dream: start-up, a lighter trace per octave (one image, no moves) and its arithmetic."""
    return START + d.octaves * tracing(cfg.network, d.layer) / 2 + dream_flops(cfg.network, d) / dev.rate


def caricature_seconds(cfg: Config, layer: str, filters: int, dev: Device) -> float:
    """One layer's caricatures: start-up, one lighter trace and the steps from each photo."""
    steps = filters * ascent_flops(cfg.network, layer, cfg.caricatures_steps, cfg.size)
    return START + tracing(cfg.network, layer) / 2 + steps / dev.rate


def dream_flops(net: Network, d: dict) -> float:
    """A dream: each octave's steps, a forward and a backward pass up to its layer."""
    side = d.size * 0.8  # the longer side is ``size``; photos are about 4:3
    octaves = [side / d.octave_scale ** i for i in range(d.octaves)]
    return sum(2.0 * net.flops_to(d.layer, round(s)) * d.steps for s in octaves)


@dataclass(frozen=True)
class Plan:
    jobs: int          # ascent jobs to run
    filters: int       # filters they render
    total: int         # filters the config selects
    seconds: float     # the whole run, on ``device``
    device: Device
    parts: dict[str, float] = field(default_factory=dict)  # job seconds by kind: "ascents", "trust", ...

    def line(self) -> str:
        if not self.jobs and self.seconds < 1:
            return f"estimate: nothing to render ({self.total:,} filters done); the pages take seconds"
        work = (f"{self.jobs} ascent job{'s' if self.jobs != 1 else ''} to run ({self.filters:,} of "
                f"{self.total:,} filters)" if self.jobs else f"no ascent to run ({self.total:,} filters done)")
        # What the time is made of, largest first: a user sees where to cut (trust=False, ...).
        parts = ", ".join(f"{kind} {duration(sec)}" for kind, sec in sorted(self.parts.items(), key=lambda kv: -kv[1])
                          if sec >= 1)
        return (f"estimate: {work}; about {duration(self.seconds)} in all on {self.device.name} ({self.device.basis})"
                + (f"; job time: {parts}" if len(self.parts) > 1 else ""))


def plan(cfg: Config, todo: dict[tuple[str, int], list[int]], dev: Device, extras: dict[str, bool],
         images: int) -> Plan:
    """The run ahead: the ascent chunks in ``todo``, the twins of their layers, and the dreams,
    examples, caricatures and trust scores ``extras`` says are missing; spread over
    ``dev.parallel`` jobs at once."""
    net = cfg.network
    jobs: dict[str, list[float]] = {
        "ascents": [job_seconds(cfg, layer, len(fs), dev) for (layer, _), fs in todo.items()],
        "twins": [twins_seconds(cfg, layer, len(cfg.filters[layer]), dev) for layer in {layer for layer, _ in todo}],
        "dreams": [dream_seconds(cfg, d, dev) for d in cfg.dreams if extras.get(f"dream:{d.name}")],
    }
    scanned = [layer for layer in cfg.filters if extras.get(f"examples:{layer}")]
    if scanned:  # one pass, up to the deepest layer it scans
        deepest = max(scanned, key=lambda name: net.layer(name).index)
        share = net.flops_to(deepest, 224) / lpips_vgg().flops_to("block5_conv3", 224)
        jobs["examples"] = [START + images * EXAMPLE_FLOPS * share / dev.rate
                            + MOSAIC * sum(len(cfg.filters[n]) for n in scanned)]
    jobs["caricatures"] = [caricature_seconds(cfg, layer, len(fs), dev)
                           for layer, fs in cfg.filters.items() if extras.get(f"caricatures:{layer}")]
    rerun = {layer for layer, _ in todo}
    jobs["trust"] = [trust_seconds(cfg, layer, len(fs), images, dev) for layer, fs in cfg.filters.items()
                     if extras.get(f"trust:{layer}") or (layer in rerun and f"trust:{layer}" in extras)]
    every = [sec for kind in jobs.values() for sec in kind]
    wall = max(sum(every) / dev.parallel, max(every, default=0.0))
    return Plan(len(todo), sum(len(fs) for fs in todo.values()), sum(len(fs) for fs in cfg.filters.values()), wall,
                dev, {kind: sum(secs) for kind, secs in jobs.items() if secs})


def digest(job_settings: str) -> str:
    """What an ascent job's manifest records of its settings (their JSON): a rerun compares it."""
    return hashlib.sha256(job_settings.encode()).hexdigest()[:16]


def ahead(cfg: Config, chunks: dict[tuple[str, int], list[int]]) -> tuple[dict, dict[str, bool]]:
    """The ascent chunks still to run (no manifest, or one written with other settings:
    compared by the digest of the settings a chunk's job is handed now), and which dreams, examples and
    layers' caricatures and trust scores are missing (both follow the examples: they rerun with
    them; the trust scores also with their layer's ascents)."""
    out = cfg.outdir
    todo = {}
    for (layer, first), fs in chunks.items():
        done, now = _read(layout.chunk_manifest(out, layer, first)), digest(settings.to_json(settings.ascent_job(cfg, layer, fs)))
        # A manifest from before the digest was recorded: Snakemake's own record decides.
        if not done or done.get("job", now) != now:
            todo[(layer, first)] = fs
    extras = {f"dream:{d.name}": not Path(layout.dream_files(out, d.name)[0]).exists() for d in cfg.dreams}
    scanned = settings.examples_todo(cfg)
    extras |= {f"examples:{layer}": True for layer in scanned}
    if cfg.caricatures:
        for layer in cfg.filters:
            missing = not Path(layout.caricatures_manifest(out, layer)).exists()
            extras[f"caricatures:{layer}"] = missing or layer in scanned
    if cfg.trust and cfg.examples != "none":  # also rerun with the layer's ascents: plan() adds those
        for layer in cfg.filters:
            missing = not Path(layout.trust_manifest(out, layer)).exists()
            extras[f"trust:{layer}"] = missing or layer in scanned
    return todo, extras


def measured(outdir: str, gpu: bool, precision: str = "float32", backend: str = "tensorflow") -> dict[str, float]:
    """Per layer, the FLOP/s the ascent jobs of an earlier run into ``outdir`` reached on this
    kind of device, backend and precision (a layer's rate varies: the first layers are
    memory-bound)."""
    totals: dict[str, list[float]] = {}
    for path in sorted(Path(outdir, "manifests", "ascend").glob("*.json")):
        done = _read(path) or {}
        rate = done.get("rate")
        same = rate and rate.get("precision", "float32") == precision and done.get("backend", "tensorflow") == backend
        if same and rate["seconds"] > 0 and rate["device"].startswith("GPU") == gpu:
            t = totals.setdefault(done["layer"], [0.0, 0.0])
            t[0], t[1] = t[0] + rate["flops"], t[1] + rate["seconds"]
    return {layer: flops / seconds for layer, (flops, seconds) in totals.items()}


def _read(path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
