"""Float images to PNG-ready uint8 arrays."""

from __future__ import annotations

import numpy as np


def chollet(x: np.ndarray) -> np.ndarray:
    """The seeds' deprocess: centre, scale to std 0.1, shift to 0.5, clip to [0,1], x255.

    Contrast is normalised per image, so the picture shows the pattern whatever the scale
    the ascent reached; a flat image (std 0) stays flat grey rather than dividing by zero.
    """
    x = np.asarray(x, np.float64)
    x = (x - x.mean()) / (x.std() + 1e-5) * 0.1 + 0.5
    return np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)


def unit_to_uint8(x: np.ndarray) -> np.ndarray:
    """An image already in [0,1] (the Fourier method's sigmoid output) to bytes, unchanged."""
    return np.round(np.clip(np.asarray(x, np.float64), 0.0, 1.0) * 255).astype(np.uint8)
