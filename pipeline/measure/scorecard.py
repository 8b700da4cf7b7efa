"""How good a filter visualisation is, in numbers a person's eye agrees with.

- ``spectral_share``: fraction of the image's power above half the Nyquist frequency.
  Photos keep almost all their power low; adversarial noise puts most of it high.
- ``robustness``: the filter's activation on randomly moved copies of the picture, over its
  activation on the picture itself, mean of :data:`DRAWS` draws. The copies are turned, resized
  and shifted as a photo editor does it (``moves.SCORECARD``: Pillow's bilinear resampling,
  antialiased when shrinking, on a grey canvas), so fine detail that a slight shrink blurs away,
  and whatever a move pushes out of the frame, count as lost.
- ``strength``: the image's activation of its own filter over the highest activation that
  filter reaches on any of the photos that ``skimage.data`` ships. Above 1, the picture excites
  the filter more than any real photo does.

Each measure is judged against a reference measured in the same job, never a number chosen by
hand (:class:`Photos`): strength against the strongest photo; robustness against what the
photos that make the filter fire keep under the same moves (a picture fails when it keeps less
than every one of them, by more than twice the error of the difference); spectral share
against the noisiest photo.

"Activation" here is the layer's real output (after the ReLU), averaged over space. This
module is plain NumPy, so the pages read its references without starting TensorFlow; the
measuring itself is ``probe``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..output.record import Scorecard

DRAWS = 8  # moved copies per picture
STRONG = 1.0  # strength's reference: the strongest photo's activation
FIRING = 0.1  # a photo makes a filter fire when it reaches this share of the strongest photo's activation


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


@dataclass(frozen=True)
class Photos:
    """The references a picture is judged against, measured once per job on the scorecard's
    photos with the same moves as the pictures: per photo and filter, the activation and the
    share kept when moved; per photo, its spectral share."""

    names: tuple[str, ...]
    acts: np.ndarray     # (photos, channels): mean post-ReLU activation
    kept: np.ndarray     # (photos, channels): moved copies' activation over the photo's (nan where silent)
    error: np.ndarray    # (photos, channels): its standard error over the draws
    shares: np.ndarray   # (photos,)

    @classmethod
    def measured(cls, names: tuple[str, ...], acts: np.ndarray, moved: np.ndarray, shares: list[float]) -> Photos:
        """``moved`` is (photos, draws, channels): each photo's moved copies' activations (in any
        float type: a bfloat16 model's too)."""
        acts, moved = np.asarray(acts, np.float64), np.asarray(moved, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(acts[:, None, :] > 0, moved / acts[:, None, :], np.nan)
        error = ratios.std(axis=1, ddof=1) / np.sqrt(moved.shape[1])
        return cls(names, acts, ratios.mean(axis=1), error, np.asarray(shares, np.float64))

    def firing(self, f: int) -> np.ndarray:
        """The photos that make filter ``f`` fire: at least :data:`FIRING` of the strongest's activation."""
        best = self.acts[:, f].max()
        return (self.acts[:, f] > 0) & (self.acts[:, f] >= FIRING * best)

    def robustness(self, f: int) -> tuple[float, float] | None:
        """The least any photo that makes ``f`` fire keeps when moved, and its standard error: a
        picture keeping less is more brittle than every real image the filter answers."""
        kept = np.where(self.firing(f), self.kept[:, f], np.nan)
        if not np.isfinite(kept).any():
            return None
        least = int(np.nanargmin(kept))
        return float(kept[least]), float(self.error[least, f])

    def spectral(self) -> float:
        """The largest spectral share among the photos: real images' fine detail. Not only the
        photos a filter answers: at block 5 those are one to three, and smooth ones crossed a
        third of the pictures (measured)."""
        return float(self.shares.max())


# Each measure as the pages show it: a verdict and the number beside it round alike, so 0.797
# is "80%" and holds up, never "keeps only 80%".
SHOWN = {"strength": 2, "robustness": 2, "spectral_share": 3}  # decimals


def passes(card: Scorecard) -> dict[str, bool]:
    """Each measure against its reference, at the precision the pages show it. Robustness fails
    only where the picture keeps less than every photo that makes the filter fire by more than
    twice the standard error of the difference (both are means over 8 moves); a measure without
    a reference (older records) passes."""
    error = np.hypot(card.robustness_error or 0.0, card.robustness_reference_error or 0.0)
    robust = card.robustness_reference is None or \
        round(card.robustness + 2 * error, SHOWN["robustness"]) >= round(card.robustness_reference, SHOWN["robustness"])
    smooth = card.spectral_reference is None or \
        round(card.spectral_share, SHOWN["spectral_share"]) <= round(card.spectral_reference, SHOWN["spectral_share"])
    return {"strength": round(card.strength, SHOWN["strength"]) > STRONG, "robustness": robust,
            "spectral share": smooth}


def reference(card: Scorecard, measure: str) -> str:
    """What a measure was judged against, in words: a tile's hover and the filter page."""
    if measure == "strength":
        return f"the strongest of the photos ({card.best_photo}) at 1×"
    if measure == "robustness":
        return "not measured" if card.robustness_reference is None else \
            f"the photos that make it fire keep {card.robustness_reference:.0%} or more"
    return "not measured" if card.spectral_reference is None else \
        f"the noisiest of the photos: {card.spectral_reference:.3f}"


def verdict(card: Scorecard) -> str:
    """One line in plain words, e.g. "beats every photo, holds up when moved as its photos do,
    no noisier than the photos"."""
    ok = passes(card)
    return ", ".join([
        "beats every photo" if ok["strength"] else f"weaker than the photo {card.best_photo!r}",
        "holds up when moved as its photos do" if ok["robustness"]
        else f"keeps only {card.robustness:.0%} when moved, less than any photo that makes it fire",
        "no noisier than the photos" if ok["spectral share"] else "more high-frequency noise than any photo"])


def fails(card: Scorecard | None) -> list[str]:
    """The measures a picture fails, for the layer page's marks."""
    if card is None:
        return []
    return [name for name, ok in passes(card).items() if not ok]


def card(own: float, moved: np.ndarray, photos: Photos, f: int, share: float, seconds: float) -> Scorecard:
    """A picture's scorecard from what was measured: its own activation (> 0) of filter ``f``, its
    moved copies' activations, the photos' references and its spectral share."""
    acts = photos.acts[:, f]
    best = int(np.argmax(acts))
    strength = float(own / acts[best]) if acts[best] > 0 else float("inf")
    kept = np.asarray(moved, np.float64) / own
    rob_ref, spec_ref = photos.robustness(f), photos.spectral()
    draft = Scorecard(round(strength, 4), photos.names[best], round(float(kept.mean()), 4), round(share, 5), "",
                      round(seconds, 4), round(float(kept.std(ddof=1) / np.sqrt(len(kept))), 4),
                      None if rob_ref is None else round(rob_ref[0], 4), round(spec_ref, 5),
                      None if rob_ref is None else round(rob_ref[1], 4))
    return replace(draft, verdict=verdict(draft))
