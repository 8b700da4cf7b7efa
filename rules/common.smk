# Parse-time logic, and its only home: the config is read, checked and filled in once here;
# every rule takes its job's typed settings from the named functions below.
import os
import re
import shlex
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)
from pipeline import config as atlas_config
from pipeline.config import estimate, settings
from pipeline.errors import AtlasError
from pipeline.images import folder, photos
from pipeline.jobs import device, lifetime
from pipeline.model import weights
from pipeline.output import layout
from pipeline.site import pages

REPO = workflow.basedir
try:  # config.yaml, --configfile and --config merged by Snakemake; one line and no job on bad input
    CFG = atlas_config.check(config)
    layout.check_outdir(CFG.outdir)  # someone's own folder is never written into
except AtlasError as exc:
    sys.exit(f"error: {exc}")

OUT = CFG.outdir
CHUNKS = settings.chunks(CFG)
EXAMPLES_TODO = settings.examples_todo(CFG)  # the layers the examples job scans this run
NET = CFG.network  # the model's description (pipeline/model/description.py)
LAYER = "|".join(re.escape(lyr.name) for lyr in NET.layers)  # what a {layer} wildcard may be
WEIGHTS = weights.resolve(CFG.weights, weights.cache_dir(CFG.cache), CFG.preprocess, NET)
# The converted cache file is shared by every atlas on the machine: converting it again (for
# another folder) must not rerun this one. A user's own weights file keeps its timestamp.
WEIGHTS_INPUT = ancient(str(WEIGHTS.file)) if weights.converted(CFG.weights, NET) else str(WEIGHTS.file)
TEMPLATES = sorted(str(p) for p in Path(REPO, "site_templates").rglob("*") if p.is_file())
# Jobs run `python -m pipeline` with the interpreter that runs Snakemake, from the working
# directory, which need not be this repository.
# A local run's jobs also learn Snakemake's pid, to end with it (pipeline/jobs/lifetime.py).
PARENT = f" {lifetime.PARENT}={os.getpid()}" if workflow.is_main_process and workflow.local_exec else ""
shell.prefix(f"set -euo pipefail; export PATH={shlex.quote(os.path.dirname(sys.executable))}:\"$PATH\" "
             f"PYTHONPATH={shlex.quote(REPO)}{PARENT}; ")


def count_gpus() -> tuple[int, int]:
    """(GPUs this run's jobs share, as nvidia-smi lists them; those TensorFlow can use),
    decided once by the main process of a local run.

    With device auto, GPUs that TensorFlow cannot use (a CPU-only build, broken CUDA) are said
    in one line with the CPU estimate; each job then runs on the CPU with its share of cores.
    """
    if CFG.device == "cpu" or not (workflow.is_main_process and workflow.local_exec):
        return 0, 0
    gpus, backend = device.count(), CFG.backend
    usable = gpus and device.backend_sees_gpu(backend)
    if CFG.device == "gpu" and not usable:
        sys.exit(f"error: {device.no_gpu_message(backend)}")
    if gpus and not usable:
        print(f"warning: {device.why_no_gpu(backend)}; running on the CPU instead, estimated "
              f"{estimate.on_cpu(CFG, os.cpu_count(), device.cpu_bfloat16())} for this config "
              f"({device.GPU_INSTALL[backend]})",
              file=sys.stderr)
    return gpus, gpus if usable else 0


GPUS, USABLE_GPUS = count_gpus()
CORES = workflow.resource_settings.cores or os.cpu_count()
GPU_PER_JOB = 0 if CFG.device == "cpu" else 1  # what a SLURM job asks for (--gpus)
ON_CLUSTER = not workflow.local_exec


def run_device() -> estimate.Device:
    """Where this run's ascents go, and the rate to plan on (the last run's, where measured), at
    the backend and the precision they will run in."""
    backend = CFG.backend
    if ON_CLUSTER and CFG.device != "cpu":
        precision = estimate.planned_precision(CFG.precision, 1, None)
        return estimate.Device("the cluster's GPUs", estimate.GPU_FLOPS, workflow.resource_settings.nodes or 1,
                               f"an H100's rate, {precision}: an estimate", {},
                               estimate.Speed(backend, precision, True, CFG.precision == "auto"))
    gpus = USABLE_GPUS if workflow.local_exec else 0
    precision = estimate.planned_precision(CFG.precision, gpus, device.cpu_bfloat16())
    return estimate.device(gpus, CORES, estimate.measured(OUT, bool(gpus), precision, backend), backend, precision,
                           CFG.precision == "auto")


DEVICE = run_device()
if workflow.is_main_process:  # every run says at its start what it will do, and for how long
    for note in CFG.notes:
        print(note, file=sys.stderr)
    TODO, EXTRAS = estimate.ahead(CFG, CHUNKS)
    images = len(folder.sources(CFG.examples)[0]) if CFG.examples != "none" else 0
    print(estimate.plan(CFG, TODO, DEVICE, EXTRAS, images).line(), file=sys.stderr)


def gpu_job_threads(wildcards) -> int:
    """On the CPU one ascent owns every core (fastest there); with N GPUs the cores split N
    ways, so N jobs run at once, each on its own GPU (pipeline/jobs/device.py). A SLURM profile
    sets threads itself."""
    return max(1, CORES // GPUS) if GPUS else CORES


def ascent_settings(wildcards) -> str:
    """One ascent job's typed settings: its chunk's filters and its layer's recipe."""
    return settings.to_json(settings.ascent_job(CFG, wildcards.layer, CHUNKS[(wildcards.layer, int(wildcards.first))]))


def ascent_minutes(wildcards) -> int:
    """A time limit: the chunk's time on this run's device, doubled, plus 10 minutes. On a
    cluster, at the slowest GPU it may land on (estimate.SLOW_GPU_FLOPS)."""
    filters = len(CHUNKS[(wildcards.layer, int(wildcards.first))])
    dev = DEVICE if not ON_CLUSTER else estimate.Device("", estimate.SLOW_GPU_FLOPS, 1, "")
    return int(2 * estimate.job_seconds(CFG, wildcards.layer, filters, dev) / 60) + 10


def chunk_manifests(wildcards) -> list[str]:
    """The manifests of the ascent jobs of one layer."""
    return [layout.chunk_manifest(OUT, lyr, first) for lyr, first in CHUNKS if lyr == wildcards.layer]


def neighbour_thumbs(wildcards) -> list[str]:
    """The filter thumbnails of the conv layers before and after, where selected: a filter page
    shows its strongest inputs and outputs with them."""
    return [layout.filter_thumbs(OUT, name) for name in settings.neighbours(CFG, wildcards.layer)]


def dream_photo(wildcards) -> list[str]:
    photo = next(d.photo for d in CFG.dreams if d.name == wildcards.name)
    return [] if photos.is_skimage(photo) else [photo]


def record_manifests(layer: str) -> list[str]:
    """The manifests of the jobs that write a layer's records: its ascents, twins, dataset
    examples and trust scores (what metrics.csv reads)."""
    return [layout.chunk_manifest(OUT, lyr, first) for lyr, first in CHUNKS if lyr == layer] + \
        [layout.twins_json(OUT, layer)] + \
        ([layout.examples_manifest(OUT, layer)] if CFG.examples != "none" else []) + \
        ([layout.trust_manifest(OUT, layer)] if settings.trusting(CFG) else [])


def final_outputs() -> list[str]:
    return layout.site_files(OUT, bool(CFG.dreams), bool(CFG.classes)) + [layout.metrics_csv(OUT)]


onstart:
    layout.claim(OUT)  # not in a dry run: the folder is the atlas' from the first job on
    if workflow.local_exec:
        lifetime.forward_sigterm()


onsuccess:
    if EXAMPLES_TODO:  # the files the examples scan this run could not read: news, said once
        folder, unread = pages.skipped_images(OUT, EXAMPLES_TODO)
        if unread:
            named = "; ".join(f"{name} ({why})" for name, why in sorted(unread.items())[:10])
            more = f"; and {len(unread) - 10} more" if len(unread) > 10 else ""
            print(f"examples: {len(unread)} file{'s' if len(unread) != 1 else ''} of {folder} could not be read "
                  f"and {'were' if len(unread) != 1 else 'was'} skipped: {named}{more} (listed on the network "
                  f"page, {OUT}/index.html)", file=sys.stderr)


onerror:
    from pipeline.jobs.failures import explain

    for path in log:  # Snakemake's own log files of this run
        for line in explain(Path(path).read_text(errors="replace")):
            print(line, file=sys.stderr)
