"""Clustering time and peak memory for 5k, 20k and 50k distinct masked messages.

Messages are drawn from the sample generator's shapes plus synthetic statements
(many templates, many variants each), so blocks are realistic. Prints one line
per size. Usage: bench/clustering_speed.py [SIZES...]
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from log_gardener.tasks.clustering import PatternClusterer  # noqa: E402

WORDS = "cache session user order payment token replica shard queue worker socket request handler timeout retry".split()
VERBS = "failed rejected expired dropped stalled refused reset closed opened started".split()


def synthetic_messages(n: int, seed: int = 11) -> list[str]:
    """`n` distinct masked messages: about n/40 statements, each with two free-text fields (names)."""
    rng = random.Random(seed)
    names = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))) for _ in range(2_000)]
    statements = []
    for _ in range(max(1, n // 40)):
        length = rng.randint(5, 14)
        tokens = [rng.choice(WORDS + VERBS + ["<NUM>", "<IP>"]) for _ in range(length)]
        statements.append((tokens, rng.sample(range(length), 2)))  # two free-text fields per statement
    seen: set[str] = set()
    while len(seen) < n:
        tokens, free = rng.choice(statements)
        tokens = list(tokens)
        for position in free:
            tokens[position] = rng.choice(names)
        seen.add(" ".join(tokens))
    return sorted(seen)


def main() -> None:
    sizes = [int(s) for s in sys.argv[1:]] or [5_000, 20_000, 50_000]
    print(f"{'distinct messages':>17} {'clusters':>9} {'seconds':>8} {'peak MiB':>9}")
    for n in sizes:
        messages = synthetic_messages(n)
        tracemalloc.start()
        started = time.perf_counter()
        clusterer = PatternClusterer().fit(messages, [1] * n)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{n:>17} {clusterer.n_clusters_:>9} {seconds:>8.2f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
