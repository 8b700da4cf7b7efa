"""Grid stitching: order, placement, labels and the dead-filter mark."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.site import grid


def solid(value):
    return np.full((40, 40, 3), value, np.uint8)


def test_tiles_in_filter_order_with_labels():
    images = [solid(v) for v in (10, 60, 110, 160, 210)]
    sheet = grid.stitch(images, ["0", "1", "2", "3", "4"], tile=20, columns=2)
    cell_w, cell_h = 22, 20 + grid.LABEL_HEIGHT + 2
    assert sheet.shape == (3 * cell_h, 2 * cell_w, 3)
    for i, v in enumerate((10, 60, 110, 160, 210)):
        x, y = (i % 2) * cell_w + 1, (i // 2) * cell_h + 1
        assert (sheet[y + 5:y + 15, x + 5:x + 15] == v).all()
        label = sheet[y + 21:y + 20 + grid.LABEL_HEIGHT, x:x + 20]
        assert (label > 150).any()  # caption text drawn under the tile


def test_dead_filters_are_crossed_out():
    sheet = grid.stitch([solid(100), solid(100)], ["0", "1"], tile=20, columns=2, dead=[False, True])
    live, dead = sheet[1:21, 1:21], sheet[1:21, 23:43]
    assert (live == 100).all()
    assert (dead[..., 0] > 150).sum() > 20 and (dead[..., 1] < 80).sum() > 20


def test_mismatched_labels():
    with pytest.raises(ValueError):
        grid.stitch([solid(1)], ["a", "b"], tile=20, columns=2)
