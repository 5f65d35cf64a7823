"""Grouping accuracy (GA) and F1 of grouping accuracy (FGA) on labelled loghub samples.

Runs the gardener's grouping (the same code as `gardener cluster`, one default
configuration for every dataset, EventId never read while clustering) and
Drain3 (default settings plus the masking its README shows) on the same
messages, and prints a table. Usage: bench/grouping_quality.py [LOGHUB_DIR]
"""

from __future__ import annotations

import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from log_gardener.tasks.cluster_lines import cluster_lines  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "loghub"


def read_dataset(path: Path) -> tuple[list[str], list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["Content"] for r in rows], [r["EventId"] for r in rows]


def grouping_scores(predicted: list, truth: list) -> tuple[float, float]:
    """GA: share of messages whose predicted group equals their true group. FGA: F1 over groups."""
    pred_groups: dict = defaultdict(set)
    true_groups: dict = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth)):
        pred_groups[p].add(i)
        true_groups[t].add(i)
    true_sets = {frozenset(s) for s in true_groups.values()}
    correct_groups = [s for s in pred_groups.values() if frozenset(s) in true_sets]
    ga = sum(len(s) for s in correct_groups) / len(predicted)
    precision = len(correct_groups) / len(pred_groups)
    recall = len(correct_groups) / len(true_groups)
    fga = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ga, fga


def drain3_labels(messages: list[str]) -> list[int] | None:
    try:
        from drain3 import TemplateMiner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        return None
    config = TemplateMinerConfig()
    boundary_l, boundary_r = r"((?<=[^A-Za-z0-9])|^)", r"((?=[^A-Za-z0-9])|$)"
    config.masking_instructions = [
        MaskingInstruction(boundary_l + r"(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))" + boundary_r, "ID"),
        MaskingInstruction(boundary_l + r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})" + boundary_r, "IP"),
        MaskingInstruction(boundary_l + r"([0-9a-f]{6,} ?){3,}" + boundary_r, "SEQ"),
        MaskingInstruction(boundary_l + r"([0-9A-F]{4} ?){4,}" + boundary_r, "SEQ"),
        MaskingInstruction(boundary_l + r"(0x[a-f0-9A-F]+)" + boundary_r, "HEX"),
        MaskingInstruction(boundary_l + r"([\-\+]?\d+)" + boundary_r, "NUM"),
        MaskingInstruction(r"(?<=executed cmd )(\".+?\")", "CMD"),
    ]
    miner = TemplateMiner(config=config)
    ids = [miner.add_log_message(m)["cluster_id"] for m in messages]
    # Drain's clusters change as it learns; label each message by its final cluster, as its README's batch mode does.
    return [miner.match(m).cluster_id if miner.match(m) else i for i, m in zip(ids, messages)]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    files = sorted(folder.glob("*.csv"))
    if not files:
        sys.exit(f"no loghub CSV files in {folder}")
    print(f"{'dataset':<12} {'messages':>8} {'truth':>6} | {'gardener GA':>11} {'FGA':>6} {'groups':>6} {'sec':>5} | {'drain3 GA':>9} {'FGA':>6} {'groups':>6}")
    totals = defaultdict(list)
    for path in files:
        messages, truth = read_dataset(path)
        started = time.perf_counter()
        labels, _ = cluster_lines(messages)
        seconds = time.perf_counter() - started
        ga, fga = grouping_scores(labels, truth)
        drain = drain3_labels(messages)
        d_ga, d_fga = grouping_scores(drain, truth) if drain else (float("nan"), float("nan"))
        totals["ga"].append(ga)
        totals["fga"].append(fga)
        totals["d_ga"].append(d_ga)
        totals["d_fga"].append(d_fga)
        print(
            f"{path.stem:<12} {len(messages):>8} {len(set(truth)):>6} | {ga:>11.3f} {fga:>6.3f} {len(set(labels)):>6} {seconds:>5.2f} | "
            f"{d_ga:>9.3f} {d_fga:>6.3f} {len(set(drain)) if drain else 0:>6}"
        )
    mean = {k: sum(v) / len(v) for k, v in totals.items()}
    print(f"{'mean':<12} {'':>8} {'':>6} | {mean['ga']:>11.3f} {mean['fga']:>6.3f} {'':>6} {'':>5} | {mean['d_ga']:>9.3f} {mean['d_fga']:>6.3f}")


if __name__ == "__main__":
    main()
