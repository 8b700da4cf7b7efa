#!/usr/bin/env bash
# The GPU check on a machine with an NVIDIA GPU and JAX, no network, no TensorFlow: install the
# carried wheels (bench/.gpu/wheels, see docs/running.md), then run bench/gpu.py on the carried
# float16 weights. With OUT set, its JSON and this log are written there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ls bench/.gpu/wheels/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    bench/.gpu/wheels/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.free,clocks.sm,clocks.max.sm --format=csv || true
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
if [ -n "${OUT:-}" ]; then
  python3 bench/gpu.py --weights-f16 bench/.gpu/vgg16-f16.npz "$@" 2>&1 | tee "$OUT/gpu-check.log"
else
  exec python3 bench/gpu.py --weights-f16 bench/.gpu/vgg16-f16.npz "$@"
fi
