"""A network's input bands, when they are not RGB: how photos become them, and how a picture
with them is shown.

Photos are RGB; a digit classifier takes one grey band, a satellite model RGB plus near
infrared. :class:`Bands` turns a photo into the network's bands the way the ``photo_bands``
setting names (:data:`WAYS`), and turns a picture drawn in them into something a browser shows
(:meth:`Bands.shown`): one band grey; three as colour; more than three their first three as
colour with every further band as a grey panel beside it. A picture's PNG is what is shown, and
:meth:`Bands.unshown` reads the bands back from it exactly, so the PNG stays the reference that
twins and trust measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# photo_bands -> what it does (the config's description and the one-line errors say it)
WAYS = {
    "auto": "RGB for a 3-band model, the luminance for a 1-band one; any other count must be named",
    "rgb": "the photo's red, green and blue",
    "grey": "the photo's luminance in every band",
    "rgb+luminance": "red, green, blue, then the luminance in every further band",
    "rgb+flat": "red, green, blue, then a flat mid-grey in every further band",
}
# ITU-R 601 luma, the weights of Pillow's convert("L"): a grey photo here is Pillow's grey
# within one level (Pillow rounds in fixed point).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
FLAT = 128  # a further band's value under rgb+flat: the middle of [0, 255]


def problem(count: int, way: str) -> str | None:
    """Why ``photo_bands = way`` cannot feed a ``count``-band network, or None."""
    if way not in WAYS:
        return f"is not one of {', '.join(repr(w) for w in WAYS)}"
    if way == "auto" and count not in (1, 3):
        return (f"cannot say how an RGB photo becomes this model's {count} bands; name it: 'grey' (its luminance "
                "in every band)" + (", 'rgb+luminance' or 'rgb+flat'" if count > 3 else ""))
    if way == "rgb" and count != 3:
        return f"needs a 3-band model; this one takes {count}"
    if way.startswith("rgb+") and count <= 3:
        return f"needs a model with more than 3 bands; this one takes {count}"
    return None


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Pictures or windows in any bands (..., bands) as RGB, for what sees only colour (the
    perceptual similarity): the first three bands, or fewer bands' mean as grey."""
    if image.shape[-1] >= 3:
        return image[..., :3]
    grey = image.mean(axis=-1, keepdims=True)
    return np.repeat(np.round(grey).astype(image.dtype) if np.issubdtype(image.dtype, np.integer) else grey, 3, axis=-1)


@dataclass(frozen=True)
class Bands:
    """A network's ``count`` input bands and the way (:data:`WAYS`, ``auto`` resolved) photos
    become them."""

    count: int = 3
    way: str = "rgb"

    @classmethod
    def of(cls, count: int, setting: str) -> Bands:
        """``photo_bands = setting`` for a ``count``-band network (checked at parse time)."""
        return cls(count, ("grey" if count == 1 else "rgb") if setting == "auto" else setting)

    @property
    def is_rgb(self) -> bool:
        return self.count == 3 and self.way == "rgb"

    def from_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """RGB photos (..., 3) as this network's bands (..., count), in the photos' dtype."""
        if self.is_rgb:
            return rgb
        grey = np.asarray(rgb, np.float32) @ LUMA
        grey = np.round(grey).astype(rgb.dtype) if np.issubdtype(rgb.dtype, np.integer) else grey
        if self.way == "grey":
            return np.repeat(grey[..., None], self.count, axis=-1)
        rest = grey if self.way == "rgb+luminance" else np.full_like(grey, FLAT)
        return np.concatenate([rgb, np.repeat(rest[..., None], self.count - 3, axis=-1)], axis=-1)

    @property
    def panels(self) -> int:
        """How many picture-widths a shown picture is: a grey panel per band below three; one
        colour panel and a grey panel per further band above."""
        return self.count if self.count < 3 else max(1, self.count - 2)

    def shown(self, image: np.ndarray) -> np.ndarray:
        """A picture (h, w, count) as a browser shows it: 1 band a grey (h, w); fewer than
        three, each a grey panel side by side; three as it is; more, the first three as colour
        and each further band a grey panel to its right."""
        if self.count == 3:
            return image
        if self.count < 3:
            return np.concatenate([image[..., b] for b in range(self.count)], axis=1)
        greys = [np.repeat(image[..., b:b + 1], 3, axis=-1) for b in range(3, self.count)]
        return np.concatenate([image[..., :3], *greys], axis=1)

    def with_alpha(self, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """:meth:`shown` with an alpha map (h, w) over every panel: MaCo's transparency."""
        seen = self.shown(image)
        alpha = np.tile(alpha, (1, self.panels))
        return np.dstack([seen, alpha])

    def unshown(self, shown: np.ndarray) -> np.ndarray:
        """The bands (h, w, count) back from :meth:`shown`'s image, exactly."""
        if self.count == 3:
            return shown
        side = shown.shape[1] // self.panels
        panels = [shown[:, i * side:(i + 1) * side] for i in range(self.panels)]
        if self.count < 3:
            return np.stack([p if p.ndim == 2 else p[..., 0] for p in panels], axis=-1)
        return np.concatenate([panels[0][..., :3], *[p[..., :1] for p in panels[1:]]], axis=-1)

    def words(self) -> str:
        """The page's sentence on what its pictures show, or "" for RGB."""
        if self.is_rgb:
            return ""
        if self.count == 1:
            look = "one grey band: its pictures are shown grey"
        elif self.count < 3:
            look = f"{self.count} bands: its pictures show each as a grey panel, side by side"
        elif self.count == 3:
            look = "three bands, shown as colour"
        else:
            extra = "band 4 as a grey panel" if self.count == 4 else f"bands 4 to {self.count} as grey panels"
            look = f"{self.count} bands: its pictures show the first three as colour and {extra} to their right"
        examples = ("" if self.count in (1, 3) else " The dataset examples are shown as "
                    + ("their first three bands." if self.count > 3 else "the bands' mean, grey."))
        return (f"This network takes {look}. Photos become its input as {WAYS[self.way]} "
                f"(photo_bands = '{self.way}').{examples}")
