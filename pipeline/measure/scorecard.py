"""How good a filter visualisation is, in numbers a person's eye agrees with.

- ``spectral_share``: fraction of the image's power above half the Nyquist frequency.
  Photos keep almost all their power low; adversarial noise puts most of it high.
- ``robustness``: the filter's activation on randomly moved copies of the picture, over its
  activation on the picture itself, mean of :data:`DRAWS` draws. The copies are turned, resized
  and shifted as a photo editor does it (``moves.SCORECARD``: Pillow's bilinear resampling,
  antialiased when shrinking, on a grey canvas), so fine detail that a slight shrink blurs away,
  and whatever a move pushes out of the frame, count as lost. A real feature survives that.
- ``strength``: the image's activation of its own filter over the highest activation that
  filter reaches on any of the photos that ``skimage.data`` ships. Above 1, the picture excites
  the filter more than any real photo does.

"Activation" here is the layer's real output (after the ReLU), averaged over space. This
module is plain NumPy, so the pages read its thresholds without starting TensorFlow; the
measuring itself is ``probe``'s.
"""

from __future__ import annotations

import numpy as np

from ..output.record import Scorecard

DRAWS = 8  # moved copies per picture
# The scorecard's thresholds: above them a picture is to be trusted.
STRONG, ROBUST, SMOOTH = 1.0, 0.8, 0.15


def spectral_share(image: np.ndarray) -> float:
    """Power above half the Nyquist frequency (0.25 cycles/pixel) over all power, mean removed."""
    x = np.asarray(image, np.float64)
    x = x - x.mean(axis=(0, 1), keepdims=True)
    power = (np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2).sum(axis=-1)
    fy = np.fft.fftfreq(x.shape[0])[:, None]
    fx = np.fft.fftfreq(x.shape[1])[None, :]
    high = np.sqrt(fx * fx + fy * fy) > 0.25
    total = power.sum()
    return float(power[high].sum() / total) if total > 0 else 0.0


# Each measure as the pages show it: a verdict and the number beside it round alike, so 0.797
# is "80%" and holds up, never "keeps only 80%".
SHOWN = {"strength": 2, "robustness": 2, "spectral_share": 3}  # decimals


def passes(strength: float, robustness: float, share: float) -> dict[str, bool]:
    """Each measure against its threshold, at the precision the pages show it."""
    return {"strength": round(strength, SHOWN["strength"]) > STRONG,
            "robustness": round(robustness, SHOWN["robustness"]) >= ROBUST,
            "spectral share": round(share, SHOWN["spectral_share"]) <= SMOOTH}


def verdict(strength: float, best_photo: str, robustness: float, share: float) -> str:
    """One line in plain words, e.g. "beats every photo, holds up when moved, no high-frequency noise"."""
    ok = passes(strength, robustness, share)
    return ", ".join([
        "beats every photo" if ok["strength"] else f"weaker than the photo {best_photo!r}",
        "holds up when moved" if ok["robustness"] else f"keeps only {robustness:.0%} when moved",
        "no high-frequency noise" if ok["spectral share"] else "much high-frequency noise"])


def fails(card: Scorecard | None) -> list[str]:
    """The measures a picture fails, for the layer page's marks."""
    if card is None:
        return []
    return [name for name, ok in passes(card.strength, card.robustness, card.spectral_share).items() if not ok]


def card(own: float, moved: np.ndarray, photo_acts: np.ndarray, share: float,
         names: tuple[str, ...], seconds: float) -> Scorecard:
    """A picture's scorecard from what was measured: its own activation (> 0), its moved copies'
    activations, its filter's activation on each photo (``names``) and its spectral share."""
    best = int(np.argmax(photo_acts))
    strength = float(own / photo_acts[best]) if photo_acts[best] > 0 else float("inf")
    robust = float(moved.mean() / own)
    return Scorecard(round(strength, 4), names[best], round(robust, 4), round(share, 5),
                     verdict(strength, names[best], robust, share), round(seconds, 4))
