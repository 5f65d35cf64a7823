"""Extraction throughput and memory: a large NDJSON / JSON-array file is streamed, never loaded whole.

Writes the sample logs at `--scale` (default 20: about 85k entries, ~100 MB),
then extracts one hour of one service from it, printing entries per second and
the Python heap peak (tracemalloc). Usage: bench/extract_speed.py [SCALE]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from log_gardener.sample import SERVICE, write_sample  # noqa: E402
from log_gardener.tasks.extract import extract  # noqa: E402
from log_gardener.tasks.normalise import Window  # noqa: E402
from log_gardener.tasks.sources import FileSource  # noqa: E402


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    window = Window.parse("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")
    print(f"{'format':<7} {'file MiB':>9} {'read':>8} {'kept':>7} {'seconds':>8} {'entries/s':>10} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("ndjson", "json"):
            path = Path(folder) / f"logs.{fmt}"
            write_sample(path, hours=3, scale=scale, fmt=fmt)
            size = path.stat().st_size / 2**20
            tracemalloc.start()
            started = time.perf_counter()
            result = extract(FileSource(path), SERVICE, window, "WARNING")
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            read = result.stats["read"]
            print(f"{fmt:<7} {size:>9.1f} {read:>8} {result.stats['kept']:>7} {seconds:>8.2f} {read / seconds:>10.0f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
