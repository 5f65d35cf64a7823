"""The command line of one `gardener run`, as the tests build it."""

from log_gardener.sample import SERVICE


def run_args(source, start: str, end: str, warehouse: str, service: str = SERVICE) -> list[str]:
    """`run --source … --service … --start … --end … --warehouse …`; callers add their own options."""
    return ["run", "--source", str(source), "--service", service, "--start", start, "--end", end, "--warehouse", warehouse]
