"""TensorFlow's native start-up chatter, kept out of job logs.

Importing TensorFlow and asking it for GPUs prints a screenful from C++ (oneDNN notes, "could
not find cuda drivers", "failed call to cuInit ... UNKNOWN ERROR (303)" on a CPU box) that
``TF_CPP_MIN_LOG_LEVEL`` does not reach. :func:`native` sends file descriptor 2 to a temporary
file for the length of a block and drops it, or prints it after all if the block fails.
``VGG16_ATLAS_VERBOSE=1`` keeps everything.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager

VERBOSE = "VGG16_ATLAS_VERBOSE"


@contextmanager
def native():
    if os.environ.get(VERBOSE, "") not in ("", "0"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            os.write(2, caught.read())  # a failure keeps what was said on the way
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
