"""End-to-end speed and memory of `gardener run` on one busy hour, beside the DuckDB floor.

For each size (default 200,000 and 1,000,000 entries of one hour, several services, from the sample generator),
writes an NDJSON file (and, for the first size, the same entries as the JSON array `gcloud logging read
--format=json` writes, whose elements SQL reads in place of lines) and has the system write it out to disk
(sync), so that neither figure pays for that, then prints:
- the floor: DuckDB reading the file and counting distinct messages, in this process;
- a `gardener run` over an empty file (the fixed overhead: imports, Prefect, setup), the median of three;
- a `gardener run` over the file: seconds, entries/s, processing time (run minus the empty run) as a multiple
  of the floor, peak RSS of the process, and the run's own stage timings.

Usage: bench/pipeline_speed.py [SIZE ...]   (a size written SIZE:json is written as a JSON array)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from log_gardener.sample import SERVICE, SampleLogs, write_sample  # noqa: E402
from log_gardener.tasks.normalise import Window  # noqa: E402

GARDENER = Path(sys.executable).parent / "gardener"
WINDOW = Window.parse("2025-09-15T01:00:00Z", "2025-09-15T02:00:00Z")


def floor_seconds(path: Path, fmt: str = "ndjson") -> tuple[float, int]:
    started = time.perf_counter()
    con = duckdb.connect()
    objects = f"read_ndjson_objects('{path}')" if fmt == "ndjson" else f"read_json_objects('{path}', format = 'array')"
    distinct = con.execute(
        "select count(distinct coalesce(json_extract_string(json, '$.jsonPayload.message'), json_extract_string(json, '$.textPayload')))"
        f" from {objects}"
    ).fetchone()[0]
    con.close()
    return time.perf_counter() - started, distinct


def run(path: Path, folder: Path) -> tuple[float, float, dict]:
    """Seconds, peak RSS (MiB) and the --json summary of one `gardener run`."""
    args = [str(GARDENER), "run", "--source", str(path), "--service", SERVICE, "--start", WINDOW.start.isoformat()]
    args += ["--end", WINDOW.end.isoformat(), "--warehouse", f"duckdb:///{folder / 'bench.duckdb'}", "--worklogs", str(folder), "--json"]
    (folder / "bench.duckdb").unlink(missing_ok=True)
    out = open(folder / "run.out", "w+")
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out.seek(0)
    lines = out.read().strip().splitlines()
    if status != 0 or not lines:
        raise SystemExit(f"gardener run failed ({status}) on {path}")
    return seconds, usage.ru_maxrss / 1024, json.loads(lines[-1])


def main() -> None:
    runs = [(int(s.split(":")[0]), s.split(":")[1] if ":" in s else "ndjson") for s in sys.argv[1:]]
    runs = runs or [(200_000, "ndjson"), (1_000_000, "ndjson"), (200_000, "json")]
    per_scale = sum(1 for _ in SampleLogs(WINDOW.start, 1, 7, 1.0).entries())
    print(
        f"{'entries':>9} {'format':>7} {'MiB':>6} {'floor s':>8} {'empty s':>8} {'run s':>7} {'entries/s':>10} {'x floor':>8} {'peak RSS MiB':>13}  stages"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        empty = folder / "empty.ndjson"
        empty.write_text("", encoding="utf-8")
        # the fixed overhead moves by a second between runs (Prefect's local server): the median of three
        empty_seconds = sorted(run(empty, folder)[0] for _ in range(3))[1]
        for size, fmt in runs:
            path = folder / f"logs-{size}.{fmt}"
            written = write_sample(path, hours=1, scale=size / per_scale, fmt=fmt, start=WINDOW.start)
            os.sync()  # the fresh file is written out now, not by the kernel in the middle of what is timed
            floor, _ = floor_seconds(path, fmt)
            seconds, rss, summary = run(path, folder)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in summary.get("timings", {}).items())
            ratio = (seconds - empty_seconds) / floor
            mib = path.stat().st_size / 2**20
            print(
                f"{written:>9} {fmt:>7} {mib:>6.0f} {floor:>8.2f} {empty_seconds:>8.2f} {seconds:>7.1f}",
                f"{written / seconds:>10.0f} {ratio:>8.1f} {rss:>13.0f}  {stages}",
            )
            path.unlink()


if __name__ == "__main__":
    main()
