"""Trust that stands on the literature: does a filter's picture help predict what the filter
does on real images, and as well as real examples do?

- **MIS** (Zimmermann, Klindt & Brendel, NeurIPS 2024), the machine version of Borowski et
  al.'s (ICLR 2021) two-way forced choice. A task shows K positive and K negative references
  (what excites the filter most and least) and two natural queries, one strongly and one weakly
  activating. A perceptual distance ``d`` (LPIPS-VGG here, ``measure/lpips.py``) scores each
  query against both reference sets, and a fixed logistic turns the difference into the
  probability of picking the strong query:

      evidence(q) = mean d(q, negatives) - mean d(q, positives)
      p = sigmoid(ALPHA * (evidence(q_strong) - evidence(q_weak)))

  MIS is ``p`` averaged over tasks. *Natural* MIS takes the references from the filter's
  dataset examples, *synthetic* MIS from its pictures (and its negative pictures, or else the
  natural negatives: then the score is *mixed*). The queries are always natural.
- **Path similarity** (Geirhos et al., ICML 2024): per conv layer up to the filter's own, the
  Spearman rank correlation between the channel activations the picture causes and those the
  filter's top natural examples cause, beside the natural-against-natural baseline (the top
  examples against each other). Each channel is first measured against what random patches
  of the examples' photos cause there (their mean is 0, their spread 1): raw, every image
  shares the channels' usual order, so that grey noise correlates with photos better than a
  picture does; measured so, 0 is "no more like the top examples than any photo patch".

Tasks come from the filter's pool of strongest and weakest images (``measure/examples.py``):
every pair of a strong and a weak image is a task, and its references are the K strongest and
K weakest of the rest of the pool, so a query is never among its own references. With
skimage's 13 photos the pool is 6 a side (36 tasks, 5 references); with an ImageNet folder it
is 2K a side. Plain NumPy: the pages read it without starting TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..output.record import Mis, Trust

# The logistic's slope. The paper fits it to IMI's human choices for DreamSim; with no human
# data here it is fixed so that a query nearer its own references by 0.1 LPIPS (a seventh of
# the median distance, 0.7, between random patches of the photos) is chosen right 88% of the time.
ALPHA = 20.0
BOOTSTRAP = 1000   # resamples of the tasks for a 95% interval
# Borowski et al. 2021, people with 9 + 9 references: the points each MIS is shown beside.
HUMAN = {"natural": 0.92, "synthetic": 0.82}


@dataclass(frozen=True)
class Task:
    """One forced choice: indices into the strong and weak pools."""

    strong: int                 # the strongly activating query
    weak: int                   # the weakly activating query
    positives: tuple[int, ...]  # natural positive references (strong pool)
    negatives: tuple[int, ...]  # natural negative references (weak pool)


def tasks(strong: int, weak: int, k: int) -> list[Task]:
    """Every (strong, weak) query pair of the pools; the references are the ``k`` first of
    the rest of each pool (pools are ranked, strongest and weakest first)."""
    out = []
    for i in range(strong):
        for j in range(weak):
            out.append(Task(i, j, tuple(r for r in range(strong) if r != i)[:k],
                            tuple(r for r in range(weak) if r != j)[:k]))
    return out


def choice(delta) -> np.ndarray:
    """Probability of picking the strong query, from the task's evidence difference."""
    return 1.0 / (1.0 + np.exp(-ALPHA * np.asarray(delta, np.float64)))


def evidence(pos: np.ndarray, neg: np.ndarray, plan: list[Task], own_pos: bool, own_neg: bool,
             n_strong: int) -> np.ndarray:
    """Each task's ``evidence(q_strong) - evidence(q_weak)``: above 0, the strong query is the
    one nearer the positives.

    ``pos[q, r]`` is the distance of query image q to positive reference r, ``neg[q, r]`` to
    negative reference r; query rows are the strong pool, then the weak pool. With ``own_pos``
    the positive references are the strong pool itself (column = image) and each task takes
    its own; otherwise every column is a reference of every task (pictures). Likewise
    ``own_neg`` for the weak pool.
    """
    out = np.empty(len(plan))
    for t, task in enumerate(plan):
        cp = list(task.positives) if own_pos else slice(None)
        cn = list(task.negatives) if own_neg else slice(None)
        s, w = task.strong, n_strong + task.weak
        out[t] = (neg[s, cn].mean() - pos[s, cp].mean()) - (neg[w, cn].mean() - pos[w, cp].mean())
    return out


def score(delta: np.ndarray, seed) -> Mis:
    """MIS, its 95% interval over the tasks, and the share of tasks chosen right outright."""
    mean, lo, hi = interval(choice(delta), seed)
    right = float(np.mean(np.where(delta > 0, 1.0, np.where(delta == 0, 0.5, 0.0))))
    return Mis(round(mean, 4), round(lo, 4), round(hi, 4), round(right, 4))


def interval(values: np.ndarray, seed) -> tuple[float, float, float]:
    """Mean and 95% bootstrap interval of ``values`` (resampled with replacement)."""
    values = np.asarray(values, np.float64)
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (BOOTSTRAP, len(values)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(values.mean()), float(lo), float(hi)


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank (what Spearman's correlation needs)."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    for start, n in zip(first, counts):
        if n > 1:
            r[order[start:start + n]] = start + (n - 1) / 2
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation; 0 where either side is constant."""
    ra, rb = ranks(a) - (len(a) - 1) / 2, ranks(b) - (len(b) - 1) / 2
    norm = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / norm) if norm > 0 else 0.0


def path(picture: list[np.ndarray], natural: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Per layer: the picture's mean rank correlation with each natural example, and the
    natural examples' mean correlation with each other (the baseline).

    ``picture[l]`` is (channels,), ``natural[l]`` is (examples, channels)."""
    own, base = [], []
    for pic, nat in zip(picture, natural):
        own.append(float(np.mean([spearman(pic, e) for e in nat])) if len(nat) else 0.0)
        pairs = [spearman(nat[i], nat[j]) for i in range(len(nat)) for j in range(i + 1, len(nat))]
        base.append(float(np.mean(pairs)) if pairs else 0.0)
    return own, base


def clause(t: Trust | None) -> str:
    """What the trust scores add to the scorecard's verdict, in plain words ("" without them).

    The picture explains its filter as well as its photos when its synthetic MIS reaches the
    natural MIS' lower bound; it misleads when even its upper bound is below chance."""
    if t is None or t.synthetic is None:
        return ""
    syn, nat = t.synthetic, t.natural
    if syn.high < 0.5:
        words = f"misleads: photos nearer it excite the filter less (MIS {syn.mis:.2f})"
    elif nat is None or syn.mis >= nat.low:
        words = f"predicts the filter on photos as well as its dataset examples do (MIS {syn.mis:.2f})"
    else:
        words = f"predicts the filter on photos less well than its dataset examples (MIS {syn.mis:.2f} against {nat.mis:.2f})"
    if t.path is not None and t.path_baseline > 0 and t.path < 0.5 * t.path_baseline:
        words += "; photos take another path through the network"
    return words


def trusted(t: Trust | None) -> bool:
    """The trust scores' own pass: not below the natural MIS' interval, and not below chance."""
    if t is None or t.synthetic is None:
        return True
    nat = t.natural
    return t.synthetic.high >= 0.5 and (nat is None or t.synthetic.mis >= nat.low)
