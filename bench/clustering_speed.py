"""Clustering speed and memory: `gardener cluster` beside Drain3, and growth with distinct messages.

1. Lines: the shared loghub samples concatenated to 200k lines (the lines of a
   busy hour repeat), clustered by the code of `gardener cluster` in process
   and by the `gardener cluster` command (start-up, reading the file and
   writing the CSV included), beside Drain3's `add_log_message` on the same
   lines. The same again with every line made distinct (a request number
   appended), the worst case. Each figure is the median of three runs. The
   command runs with Python's default of caching compiled modules, as an
   installed wheel has them (a machine may set PYTHONDONTWRITEBYTECODE).
2. Distinct masked messages: 5k / 20k / 50k / 200k synthetic messages (many
   statements, two free-text fields each), seconds and peak traced memory.
   Each fit is the first of a fresh process, as in `gardener cluster`, and
   the seconds are the median of five such processes:
   a fit that follows another runs in the heap that one left, 10 to 30%
   slower and more so after a larger one.

Usage: bench/clustering_speed.py [LOGHUB_DIR] [--sizes=5000,20000,...]
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.grouping_quality import DEFAULT_DIR, drain3_miner, read_dataset  # noqa: E402
from log_gardener.tasks.cluster_lines import cluster_lines  # noqa: E402
from log_gardener.tasks.clustering import PatternClusterer  # noqa: E402

WORDS = "cache session user order payment token replica shard queue worker socket request handler timeout retry".split()
VERBS = "failed rejected expired dropped stalled refused reset closed opened started".split()
LINES = 200_000


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


def loghub_lines(folder: Path, total: int = LINES) -> list[str]:
    messages = [m for path in sorted(folder.glob("*.csv")) for m in read_dataset(path)[0]]
    if not messages:
        sys.exit(f"no loghub CSV files in {folder}")
    return (messages * (total // len(messages) + 1))[:total]


def _time(function, *args, runs: int = 3) -> float:
    """Median seconds of `runs` calls."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        function(*args)
        seconds.append(time.perf_counter() - started)
    return sorted(seconds)[len(seconds) // 2]


def _drain3(lines: list[str]) -> None:
    miner = drain3_miner()
    for line in lines:
        miner.add_log_message(line)


def _command(source: Path) -> None:
    gardener = Path(sys.executable).with_name("gardener")
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    command = [str(gardener), "cluster", str(source), "--output", str(source.with_suffix(".csv"))]
    subprocess.run(command, check=True, capture_output=True, env=environment)


def lines_table(folder: Path) -> None:
    repeated = loghub_lines(folder)
    distinct = [f"{line} request {i}" for i, line in enumerate(repeated)]
    print(f"## {LINES:,} lines of the loghub samples ({len(set(repeated)):,} distinct), and the same lines all distinct")
    print(f"{'lines':<10} {'what':<34} {'seconds':>8} {'lines/s':>10} {'x drain3':>9}")
    for name, lines in (("repeated", repeated), ("distinct", distinct)):
        drain = _time(_drain3, lines) if drain3_miner() is not None else float("nan")
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder, "lines.txt")
            source.write_text("\n".join(lines) + "\n", encoding="utf-8")
            command = _time(_command, source)
        for what, seconds in (
            ("gardener cluster (in process)", _time(cluster_lines, lines)),
            ("gardener cluster (command)", command),
            ("drain3 add_log_message", drain),
        ):
            print(f"{name:<10} {what:<34} {seconds:>8.2f} {len(lines) / seconds:>10,.0f} {drain / seconds:>9.1f}")


def distinct_table(sizes: list[int]) -> None:
    print("\n## distinct masked messages")
    # about n/40 statements: the patterns found follow the messages, and so should the cost
    print(
        f"{'distinct messages':>17} {'statements':>10} {'patterns':>9} {'seconds':>8} {'us/message':>11} {'us/pattern':>11} {'peak MiB':>9}"
    )
    per_message = []
    for n in sizes:
        # the first process also traces memory, in a second fit
        runs = [
            subprocess.run(
                [sys.executable, __file__, f"--fit={n}", *(["--peak"] if k == 0 else [])], check=True, capture_output=True, text=True
            )
            for k in range(5)
        ]
        figures = [json.loads(run.stdout) for run in runs]
        peak = figures[0][2]
        patterns, seconds, _ = sorted(figures, key=lambda figure: figure[1])[2]
        per_message.append(seconds / n)
        per_pattern = seconds / patterns * 1e6
        print(
            f"{n:>17,} {max(1, n // 40):>10,} {patterns:>9,} {seconds:>8.2f} {seconds / n * 1e6:>11.1f} {per_pattern:>11.1f} {peak:>9.1f}"
        )
    if len(sizes) > 1:
        # n log n in all: the cost of a message may grow as log n
        allowed = math.log(sizes[-1]) / math.log(sizes[0])
        print(
            f"cost per message from {sizes[0]:,} to {sizes[-1]:,}: x{per_message[-1] / per_message[0]:.2f} (n log n allows x{allowed:.2f})"
        )


def fit_figures(n: int, peak: bool) -> tuple[int, float, float | None]:
    """Patterns, seconds of this process's first fit and, with `peak`, peak traced MiB of one more, for `n` distinct
    messages."""
    messages = synthetic_messages(n)
    clusterer = PatternClusterer()
    seconds = _time(clusterer.fit, messages, [1] * n, runs=1)
    if not peak:
        return clusterer.n_clusters_, seconds, None
    tracemalloc.start()
    PatternClusterer().fit(messages, [1] * n)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return clusterer.n_clusters_, seconds, traced


def main() -> None:
    for a in sys.argv[1:]:
        if a.startswith("--fit="):  # one size, in the process distinct_table started for it
            print(json.dumps(fit_figures(int(a.split("=", 1)[1]), "--peak" in sys.argv)))
            return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sizes = [5_000, 20_000, 50_000, 200_000]
    for a in sys.argv[1:]:
        if a.startswith("--sizes="):
            sizes = [int(s) for s in a.split("=", 1)[1].split(",")]
    lines_table(Path(args[0]) if args else DEFAULT_DIR)
    distinct_table(sizes)


if __name__ == "__main__":
    main()
