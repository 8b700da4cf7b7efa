"""Float images to PNG-ready uint8 arrays."""

from __future__ import annotations

import numpy as np


def chollet(x: np.ndarray) -> np.ndarray:
    """Chollet 2016's deprocess: centre, scale to std 0.1, shift to 0.5, clip to [0,1], x255.

    Contrast is normalised per image, so the picture shows the pattern whatever the scale
    the ascent reached; a flat image (std 0) stays flat grey rather than dividing by zero.
    """
    x = np.asarray(x, np.float64)
    x = (x - x.mean()) / (x.std() + 1e-5) * 0.1 + 0.5
    return to_uint8(np.clip(x, 0.0, 1.0) * 255)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Pixels already in [0, 255] to bytes, rounded and clipped, contrast unchanged."""
    return np.round(np.clip(np.asarray(x, np.float64), 0.0, 255.0)).astype(np.uint8)
