"""Corpus-level classification metrics over (gold, pred) pairs, and a bootstrap standard error for them."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

Pair = tuple[Hashable, Hashable]


def macro_f1(pairs: Sequence[Pair]) -> float:
    """Unweighted mean over labels of each label's F1, as sklearn's f1_score(average="macro") computes it.

    Labels are those occurring as gold or as prediction (so a prediction outside the gold labels, such as a
    failed extraction, counts as a class of its own with F1 0). F1 of a label = 2 tp / (2 tp + fp + fn).
    """
    if not pairs:
        return float("nan")
    counts = Counter(pairs)
    gold: Counter[Hashable] = Counter()
    pred: Counter[Hashable] = Counter()
    for (g, p), k in counts.items():
        gold[g] += k
        pred[p] += k
    labels = set(gold) | set(pred)
    # 2 tp + fp + fn = (times predicted) + (times gold)
    return sum(2 * counts[(label, label)] / (pred[label] + gold[label]) for label in labels) / len(labels)


def bootstrap_stderr(
    statistic: Callable[[Sequence[Pair]], float], pairs: Sequence[Pair], *, rounds: int = 1000, seed: int = 1234
) -> float:
    """Standard deviation of ``statistic`` over ``rounds`` resamples of ``pairs`` drawn with replacement."""
    n = len(pairs)
    if n < 2:
        return float("nan")
    rnd = random.Random(seed)
    values = [statistic(rnd.choices(pairs, k=n)) for _ in range(rounds)]
    m = sum(values) / rounds
    return math.sqrt(sum((v - m) ** 2 for v in values) / (rounds - 1))
