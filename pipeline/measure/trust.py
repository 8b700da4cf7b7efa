"""Trust: does a filter's picture help predict what *this* filter does on real images, and as
well as real examples do?

- **The specific score** (this atlas'), the one the verdict rests on. The same two-way choice
  as MIS below, with the filter's picture as the positive reference and the pictures of its
  layer's other filters as the negatives, counted outright: the share of (strong, weak) query
  pairs where the strong one sits nearer the picture, relative to the others. Whatever makes
  any picture look like strong photos is shared by the negatives and cancels. Its null is the
  same score for each other picture; the verdict compares the two (:func:`specificity`).
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
is 2K a side. Every interval is a bootstrap over the images (:func:`over_images`). Plain NumPy:
the pages read it without starting TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..output.record import Mis, Null, Trust

# The logistic's slope. The paper fits it to IMI's human choices for DreamSim; with no human
# data here it is fixed so that a query nearer its own references by 0.1 LPIPS (a seventh of
# the median distance, 0.7, between random patches of the photos) is chosen right 88% of the time.
ALPHA = 20.0
BOOTSTRAP = 1000   # resamples of the images for a 95% interval
OTHERS = 32        # the layer's other pictures a specific score is measured against, at most
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


def right(delta) -> np.ndarray:
    """1 where the strong query is chosen (the evidence favours it), 0 where not, 0.5 at a tie:
    the specific score counts choices outright, as a reader makes them."""
    delta = np.asarray(delta, np.float64)
    return np.where(delta > 0, 1.0, np.where(delta == 0, 0.5, 0.0))


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


def as_matrix(per_task: np.ndarray, n_strong: int) -> np.ndarray:
    """Per-task values of :func:`tasks`' plan (every strong query with every weak one, in that
    order) as a (strong, weak) matrix: what the bootstrap over images resamples."""
    return np.asarray(per_task, np.float64).reshape(n_strong, -1)


def score(delta: np.ndarray, seed) -> Mis:
    """MIS from a (strong, weak) matrix of task evidence, with its 95% interval over the images
    (:func:`over_images`) and the share of tasks chosen right outright."""
    delta = np.asarray(delta, np.float64)
    p = choice(delta)
    return _mis(p, delta, over_images(p[None], np.random.default_rng(seed)))


def over_images(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means of the (resamples or 1, strong, weak) task probabilities ``p``: whole query
    images drawn again, so tasks that share an image move together, with one more image a side
    whose tasks sit at chance (0.5), drawn like the others.

    Without that prior a bootstrap cannot see how little data there is when every task agrees:
    36 tasks from 6 strong and 6 weak photos, all chosen right, resample to one value, and 13
    photos showed "1.00 (1.00 to 1.00)". With it, such a perfect score on 6 images a side reads
    about 1.00 (0.70 to 1.00); on 18 a side (an ImageNet folder) the prior weighs a third as much."""
    n, ns, nw = p.shape
    padded = np.full((n, ns + 1, nw + 1), 0.5)
    padded[:, :ns, :nw] = p
    si = rng.integers(0, ns + 1, (BOOTSTRAP, ns + 1))
    wi = rng.integers(0, nw + 1, (BOOTSTRAP, nw + 1))
    rows = np.arange(BOOTSTRAP) % n
    return padded[rows[:, None, None], si[:, :, None], wi[:, None, :]].mean(axis=(1, 2))


def _mis(p: np.ndarray, delta: np.ndarray, means: np.ndarray) -> Mis:
    lo, hi = np.percentile(means, [2.5, 97.5])
    mean = float(p.mean())
    outright = float(right(delta).mean())
    return Mis(round(mean, 4), round(float(min(lo, mean)), 4), round(float(max(hi, mean)), 4), round(outright, 4))


def contrast(candidate: np.ndarray, others: np.ndarray, n_strong: int) -> np.ndarray:
    """The (strong, weak) evidence matrix of the specific score: the picture ``candidate`` is
    the positive reference and the layer's other pictures are the negatives.

    ``candidate`` is (queries,): each query's distance to the picture (the mean over its
    pictures, with diversity); ``others`` is (queries, m): to each other picture. A strong
    query of this filter should sit nearer its picture than the layer's other pictures do;
    whatever makes any picture look like strong photos (texture, colour) is shared by the
    negatives and cancels."""
    e = others.mean(axis=1) - candidate
    return e[:n_strong, None] - e[None, n_strong:]


def specific(candidate: np.ndarray, others: np.ndarray, n_strong: int, seed) -> Mis:
    """The specific score: the share of tasks (a strong and a weak query of the filter) where the
    strong query is the one nearer the picture, against the layer's other pictures (ties half).
    Its interval: the bootstrap draws the strong queries, the weak queries
    (:func:`over_images`) and the other pictures again.

    Counted outright rather than through MIS' logistic: measured on two draws of filters at
    blocks 3 to 5, a picture beat both the median of its layer's other pictures and grey noise
    by 0.05 or more at 79-100% of a layer's filters counted so, against 38-71% through the
    logistic (alpha 20), whose probabilities sit near 0.5 for the small distance differences
    between pictures (docs/trust.md)."""
    delta = contrast(candidate, others, n_strong)
    m = others.shape[1]
    rng = np.random.default_rng(seed)
    drawn = others[:, rng.integers(0, m, (BOOTSTRAP, m))].mean(axis=2)  # (queries, resamples)
    e = (drawn - candidate[:, None]).T
    p = right(e[:, :n_strong, None] - e[:, None, n_strong:])
    return _mis(right(delta), delta, over_images(p, rng))


def null(others: np.ndarray, n_strong: int) -> np.ndarray:
    """(m,): each other picture's specific score as this filter's explanation, against the
    rest of them: what a picture that is not this filter's scores here."""
    m = others.shape[1]
    if m < 2:
        return np.zeros(0)
    rest = (others.sum(axis=1, keepdims=True) - others) / (m - 1)
    e = rest - others  # (queries, m)
    return right(e[:n_strong, None, :] - e[None, n_strong:, :]).mean(axis=(0, 1))


def interval(values: np.ndarray, seed) -> tuple[float, float, float]:
    """Mean and 95% bootstrap interval of ``values`` (resampled with replacement): a summary
    over filters (bench/trust.py)."""
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


# A verdict needs at least this many query images a side; below, a score is a demonstration.
MIN_POOL = 9

VERDICTS = {  # the specific score against its null, in plain words (the filter page's sentence)
    "specific": "picks out this filter: photos that excite it look more like its picture than like "
                "the layer's other pictures",
    "not specific": "does not single out this filter: its photos look no more like its picture than "
                    "like a typical other picture of the layer",
    "worse": "misleads: photos that excite this filter look less like its picture than like the "
             "layer's other pictures",
    "demonstration": "a demonstration, without a verdict: too few photos stand behind the score",
    "none": "no verdict: its layer has no other pictures to compare with",
}


def specificity(specific: Mis | None, null: Null | None, pool: list[int]) -> str:
    """The verdict on a picture's specific score: "specific" where its 95% interval lies above
    what the layer's other pictures score here (the null's median), "worse" where it lies below,
    "not specific" where it overlaps; a key of :data:`VERDICTS`."""
    if specific is None or null is None:
        return "none"
    if min(pool) < MIN_POOL:
        return "demonstration"
    if specific.low > null.median:
        return "specific"
    return "worse" if specific.high < null.median else "not specific"


def verdict(t: Trust | None) -> str:
    """The trust verdict's key for a record ("" without trust scores)."""
    return "" if t is None else specificity(t.specific, t.null, t.pool)
