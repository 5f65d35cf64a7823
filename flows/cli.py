"""The `gardener` command line."""

from __future__ import annotations

import gc
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from log_gardener.flows.field_help import describe
from log_gardener.tasks.warehouses.base import DEFAULT_WAREHOUSE

if TYPE_CHECKING:
    from rich.console import Console

    # the parameter models are imported by the commands that run flows, not by `cluster`
    from log_gardener.flows.parameters import RunParameters, RunSettings

app = typer.Typer(
    help="Log Gardener: group a service's WARNING+ logs into patterns, track their rates, keep issues and a worklog up to date.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"log-gardener {version('log-gardener')}\n")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Log Gardener: group a service's WARNING+ logs into patterns, track their rates, keep issues and a worklog up to date."""


class _Console:
    """rich's Console, made on first use: `gardener cluster` writes plain lines and never imports rich."""

    def __init__(self, stderr: bool):
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The Console itself, for rich's own objects (a progress display)."""
        if self._console is None:
            from rich.console import Console

            # piped or redirected output is not folded at 80 columns
            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(stderr=self._stderr, width=None if stream.isatty() else 200)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.console, name)


err = _Console(stderr=True)
out = _Console(stderr=False)

M = TypeVar("M", bound="RunSettings")

# The options that run, backfill, fleet and explain share, each declared once.
SourceOption = Annotated[str, typer.Option(help=describe("source"))]
ServiceOption = Annotated[str, typer.Option(help=describe("service"))]
StartOption = Annotated[str, typer.Option(help="Window start, ISO 8601 (e.g. 2025-09-15T00:00:00Z). Inclusive.")]
EndOption = Annotated[str, typer.Option(help="Window end, ISO 8601. Exclusive.")]
WarehouseOption = Annotated[str, typer.Option(envvar="GARDENER_WAREHOUSE", help=describe("warehouse"))]
TrackerOption = Annotated[str, typer.Option(envvar="GARDENER_TRACKER", help=describe("tracker"))]
RulesOption = Annotated[str | None, typer.Option(envvar="GARDENER_RULES", help=describe("rules_path"))]
MinSeverityOption = Annotated[str, typer.Option(help=describe("min_severity"))]
FilterOption = Annotated[str | None, typer.Option("--filter", help=describe("logging_filter"))]
WorklogsOption = Annotated[Path, typer.Option(envvar="GARDENER_WORKLOGS", help=describe("worklog_dir"))]
WorklogRepoOption = Annotated[str, typer.Option("--worklog-repo", envvar="GARDENER_WORKLOG_REPO", help=describe("worklog_repo"))]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)  # one line, however long: the terminal wraps it
    raise typer.Exit(2)


def _crash(exc: Exception) -> None:
    err.print(f"[bold red]run failed:[/] {type(exc).__name__}: {exc}", soft_wrap=True)
    err.print("Nothing is lost: finished windows and applied actions are recorded; run the same command again to resume.")
    raise typer.Exit(1)


def _check_source(source: str) -> None:
    if source.startswith(("cloud-logging:", "bq-sink:")):
        return
    from log_gardener.tasks.sources.file import FileSource

    try:
        FileSource(source)  # says why a path cannot be read as a file source
    except FileNotFoundError as exc:
        _fail(str(exc))


def _parameters(
    model: type[M], source, warehouse, tracker, rules, min_severity, logging_filter, worklogs, publish, worklog_repo="", **only
) -> M:
    """The options as the parameters model of the flows and deployments (RunParameters or FleetParameters, with
    the fields `only` that model has); a bad value is a clear error."""
    from pydantic import ValidationError

    from log_gardener.flows.parameters import FILTER_SOURCES_ONLY
    from log_gardener.tasks.problems import one_line

    _check_source(source)
    if logging_filter and not source.startswith("cloud-logging:"):
        _fail(f"--filter {FILTER_SOURCES_ONLY}")
    try:
        return model(
            **only,
            source=source,
            warehouse=warehouse,
            tracker=tracker,
            rules_path=str(rules) if rules else None,
            min_severity=min_severity,
            logging_filter=logging_filter,
            worklog_dir=str(worklogs),
            publish_issues=publish,
            worklog_repo=worklog_repo,
        )
    except ValidationError as exc:
        _fail(one_line(exc))


def _check_google_credentials(params: RunSettings) -> None:
    """Google-backed sources and warehouses need credentials: say so in one line before any run starts."""
    from log_gardener.tasks.google_credentials import MissingGoogleCredentials
    from log_gardener.tasks.sources import open_source
    from log_gardener.tasks.warehouses import open_warehouse

    try:
        if params.source.startswith(("cloud-logging:", "bq-sink:")):
            open_source(params.source)
        if params.warehouse.startswith("bigquery:"):
            open_warehouse(params.warehouse).close()
    except MissingGoogleCredentials as exc:
        _fail(str(exc))
    except ValueError:
        pass  # a malformed spec: the run says what is wrong with it


def _check_settings(params: RunSettings) -> None:
    """What a run reads before its first entry, checked before any run starts: one line, exit code 2, and nothing
    made, loaded or posted (a run that failed on them would first print the flow engine's trace)."""
    from log_gardener.tasks.rules import load_rules
    from log_gardener.tasks.trackers import check_tracker_spec
    from log_gardener.tasks.trackers.github import NO_TOKEN, token_configured
    from log_gardener.tasks.warehouses import check_warehouse_spec

    try:
        load_rules(params.rules_path or None)
        check_warehouse_spec(params.warehouse)
        check_tracker_spec(params.tracker)
        # a worklog repository is written with the tracker's token
        if (params.tracker.startswith("github:") or (params.worklog_repo and params.publish_issues)) and not token_configured():
            raise ValueError(NO_TOKEN)
    except ValueError as exc:
        _fail(str(exc))
    if (problem := _unwritable(Path(params.worklog_dir))) is not None:
        _fail(f"worklog folder {params.worklog_dir} cannot be written: {problem}")


def _check_no_overlap(params: RunSettings, windows: list) -> None:
    """A window (each window of a backfill) that overlaps a completed one of the service is refused before the run
    starts (the flows refuse it too, after the flow engine has printed its trace)."""
    import duckdb

    from log_gardener.tasks.warehouses import records

    warehouse = _open_existing(params.warehouse)
    if warehouse is None:
        return
    try:
        records.check_no_overlap(warehouse, params.service, windows)
    except ValueError as exc:
        _fail(str(exc))
    except duckdb.Error as exc:  # a table of another shape under the name of one of ours
        _not_a_warehouse(params.warehouse, exc)
    finally:
        warehouse.close()


def _open_existing(url: str, written_by_runs: bool = False):
    """The DuckDB warehouse file at `url`, opened and set up, when it exists (None otherwise, and for BigQuery): a
    file that is no DuckDB warehouse, or one whose tables are not this release's, is a one-line error here. With
    `written_by_runs`, a file without the `runs` table is one too, and is left as it is (a command that only
    changes what runs wrote never sets a warehouse up in another database's file). Waits for a file another run
    holds, as a run does."""
    import duckdb

    from log_gardener.tasks.warehouses import duckdb_path, open_warehouse

    path = duckdb_path(url)
    if path is None or not Path(path).is_file():
        return None
    try:
        warehouse = open_warehouse(url)
    except RuntimeError as exc:  # held by another process past the wait, or not a DuckDB file
        _fail(str(exc))
    try:
        if (
            written_by_runs
            and not warehouse.con.execute("select count(*) from information_schema.tables where table_name = 'runs'").fetchone()[0]
        ):
            warehouse.close()
            _fail(f"the DuckDB file {path} is not a gardener warehouse: it has no runs table")
        warehouse.setup()
    except duckdb.Error as exc:
        warehouse.close()
        _not_a_warehouse(path, exc)
    return warehouse


def _not_a_warehouse(path: str, exc: Exception) -> None:
    _fail(f"the DuckDB file {path} is not a gardener warehouse: {str(exc).splitlines()[0]}")


def _unwritable(folder: Path) -> str | None:
    """Why a folder could not be made or written in (None when it can), found without making it."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _check_window(start: str, end: str):
    """The window, once it is a valid one that is over (else a one-line error)."""
    from log_gardener.tasks.normalise import Window

    try:
        return Window.parse(start, end).check_over()
    except ValueError as exc:
        _fail(str(exc))


def _quiet_prefect() -> None:
    # Keep the terminal for results (Prefect's console shows WARNING and above) while the run's INFO log
    # still reaches the Prefect API, where a person reads it in the UI.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The first start of Prefect's local server migrates its database: on a small machine that takes a while.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def print_clusters(summary: dict, console: Console | _Console = out) -> None:
    """A short table of a run's patterns and tracker actions."""
    from rich.table import Table

    from log_gardener.tasks.measure import per_minute

    table = Table(title=f"{summary['service']} {summary['window']['start']} → {summary['window']['end']}", title_justify="left")
    for column in ("status", "priority", "count", "rate", "baseline", "issue", "template"):
        table.add_column(column, overflow="fold" if column == "template" else "ellipsis")
    for c in summary["clusters"]:
        priority = c["priority"] if c["previous_priority"] in (None, c["priority"]) else f"{c['previous_priority']}→{c['priority']}"
        issue = f"#{c['issue']['number']} {c['issue']['action']}" if c["issue"]["number"] else c["issue"]["action"]
        baseline = "-" if c["baseline_rate_per_min"] is None else per_minute(c["baseline_rate_per_min"])
        table.add_row(c["status"], priority, str(c["count"]), per_minute(c["rate_per_min"]), baseline, issue, c["template"][:80])
    console.print(table)
    console.print(f"entries {summary['entries']}, rejected {summary['rejected']}, worklog {summary['worklog']}")


@app.command()
def run(
    source: SourceOption,
    service: ServiceOption,
    start: StartOption,
    end: EndOption,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    tracker: TrackerOption = "local",
    rules: RulesOption = None,
    min_severity: MinSeverityOption = "WARNING",
    logging_filter: FilterOption = None,
    worklogs: WorklogsOption = Path("worklogs"),
    worklog_repo: WorklogRepoOption = "",
    no_publish: bool = typer.Option(False, "--no-publish", help="Record the run without touching the tracker."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (run_id, service, window, entries, rejected, worklog, clusters)."
    ),
) -> None:
    """Run the gardener flow for one service and one window [START, END)."""
    from log_gardener.flows.parameters import RunParameters

    params = _parameters(
        RunParameters,
        source,
        warehouse,
        tracker,
        rules,
        min_severity,
        logging_filter,
        worklogs,
        not no_publish,
        worklog_repo,
        service=service,
    )
    window = _check_window(start, end)
    _check_settings(params)
    _check_google_credentials(params)
    _check_no_overlap(params, [window])
    _quiet_prefect()
    from prefect import tags

    from log_gardener.flows.gardener import gardener

    try:
        with tags("log-gardener", "manual", f"service:{params.service}"):
            summary = gardener(params, start, end)
    except (ValueError, FileNotFoundError, RuntimeError, PermissionError) as exc:
        _fail(str(exc))
    except Exception as exc:  # an API or network failure after retries: say what, the flow run log has the trace
        _crash(exc)
    if as_json:
        sys.stdout.write(json.dumps(summary, default=str) + "\n")
    else:
        print_clusters(summary)


@app.command()
def backfill(
    source: SourceOption,
    service: str | None = typer.Option(None, help=describe("service") + " Or give --services."),
    services: str | None = typer.Option(None, help="Several services, comma-separated: each is backfilled in turn."),
    start: str = typer.Option(..., help="Start of the period, ISO 8601 (inclusive)."),
    end: str = typer.Option(..., help="End of the period, ISO 8601 (exclusive)."),
    step: str = typer.Option("1h", help="Window length: 30m, 1h, 1d; the period must be a whole number of them."),
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    tracker: str = typer.Option("local", envvar="GARDENER_TRACKER", help=describe("tracker") + " Used only with --publish."),
    rules: RulesOption = None,
    min_severity: MinSeverityOption = "WARNING",
    logging_filter: FilterOption = None,
    worklogs: WorklogsOption = Path("worklogs"),
    worklog_repo: WorklogRepoOption = "",
    publish: bool = typer.Option(
        False, "--publish", help="Also create and update tracker issues (off by default: a backfill builds the baseline)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the windows run and skipped."),
) -> None:
    """Run the gardener over every window of a past period, oldest first; windows already done are skipped."""
    from log_gardener.flows import backfill as backfill_module
    from log_gardener.flows.parameters import RunParameters
    from log_gardener.tasks.normalise import Window

    if (service is None) == (services is None):
        _fail("give either --service NAME or --services A,B,C")
    names = [service] if service else [name.strip() for name in services.split(",") if name.strip()]
    if not names:
        _fail("--services lists no service")
    all_params = [
        _parameters(
            RunParameters, source, warehouse, tracker, rules, min_severity, logging_filter, worklogs, publish, worklog_repo, service=name
        )
        for name in names
    ]
    try:
        period = Window.parse(start, end).check_over()
        windows = backfill_module.whole_steps(period, backfill_module.parse_step(step))
    except ValueError as exc:
        _fail(str(exc))
    _check_settings(all_params[0])
    _check_google_credentials(all_params[0])
    if service:
        _check_no_overlap(all_params[0], windows)
    _quiet_prefect()
    if service:  # one service: its failure is the command's
        try:
            result = _backfill_one(backfill_module, all_params[0], start, end, step, len(windows))
        except (ValueError, FileNotFoundError, RuntimeError, PermissionError) as exc:
            _fail(str(exc))
        except Exception as exc:
            _crash(exc)
        results = {service: result}
    else:  # several: one service failing does not stop the others (its finished windows are kept)
        results = {}
        for params in all_params:
            try:
                results[params.service] = _backfill_one(backfill_module, params, start, end, step, len(windows))
            except Exception as exc:  # noqa: BLE001 - reported below, the exit code says it
                results[params.service] = {"error": f"{type(exc).__name__}: {exc}"}
    failed = sorted(name for name, result in results.items() if "error" in result)
    if as_json:
        result = results[names[0]] if service else {"services": results, "failed": failed}
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        for name, result in results.items():
            if "error" in result:
                err.print(f"[bold red]failed:[/] {name}: {result['error']}", soft_wrap=True)
            else:
                out.print(f"{name}: {result['windows']} windows: {result['ran']} run, {result['skipped']} already done")
    if failed:
        err.print(f"{len(failed)} of {len(results)} services failed; run the same command again to resume them.")
        raise typer.Exit(1)


def _backfill_one(backfill_module, params: RunParameters, start: str, end: str, step: str, total: int) -> dict:
    """One service's backfill with a progress bar on the terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    service = params.service
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err.console
    ) as progress:
        bar = progress.add_task(f"backfill {service}", total=total)

        def advance(done, total, window, summary):
            note = "skipped (done)" if summary is None else f"{summary['entries']} entries, {len(summary['clusters'])} patterns"
            progress.update(bar, completed=done, description=f"{service} {window.start:%Y-%m-%d %H:%M} {note}")

        backfill_module.progress_hook = advance
        try:
            return backfill_module.backfill(params, start, end, step)
        finally:
            backfill_module.progress_hook = None


@app.command()
def fleet(
    source: SourceOption,
    start: StartOption,
    end: EndOption,
    services: str = typer.Option("all", help=describe("services")),
    max_parallel: int = typer.Option(4, "--max-parallel", help=describe("max_parallel")),
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    tracker: TrackerOption = "local",
    rules: RulesOption = None,
    min_severity: MinSeverityOption = "WARNING",
    logging_filter: FilterOption = None,
    worklogs: WorklogsOption = Path("worklogs"),
    worklog_repo: WorklogRepoOption = "",
    no_publish: bool = typer.Option(False, "--no-publish", help="Record the runs without touching the tracker."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print one JSON object: {"runs": [one `run --json` object per service], "failed": [...], "not_run": [...], "digest": PATH}.',
    ),
) -> None:
    """Run the gardener for every service with WARNING+ entries in [START, END), a few at a time, and write one digest.

    One service failing does not stop the others; the exit code is 1 when any failed, and the summary says which.
    """
    from log_gardener.flows.parameters import FleetParameters

    params = _parameters(
        FleetParameters,
        source,
        warehouse,
        tracker,
        rules,
        min_severity,
        logging_filter,
        worklogs,
        not no_publish,
        worklog_repo,
        services=services,
        max_parallel=max_parallel,
    )
    _check_window(start, end)
    _check_settings(params)
    _check_google_credentials(params)
    if (warehouse_opened := _open_existing(params.warehouse)) is not None:
        warehouse_opened.close()  # a file that is no warehouse is one line here, not each service's trace
    _quiet_prefect()
    from prefect import tags

    from log_gardener.flows.fleet import fleet as fleet_flow

    try:
        with tags("log-gardener", "manual", "fleet"):
            result = fleet_flow(params, start, end)
    except (ValueError, FileNotFoundError, RuntimeError, PermissionError) as exc:
        _fail(str(exc))
    except Exception as exc:
        _crash(exc)
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        for summary in result["runs"]:
            print_clusters(summary)
        for item in result["failed"]:
            err.print(f"[bold red]failed:[/] {item['service']}: {item['error']}", soft_wrap=True)
        for item in result.get("not_run", []):
            err.print(f"[bold yellow]not run:[/] {item['service']}: {item['reason']}", soft_wrap=True)
        out.print(f"{len(result['runs'])} services run, {len(result['failed'])} failed; digest {result['digest']}")
    if result["failed"]:
        raise typer.Exit(1)


@app.command()
def explain(
    message: Annotated[str, typer.Argument(help="One log message, as the entry's text (use $'...' for a multi-line trace).")],
    service: ServiceOption,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    rules: RulesOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of lines."),
) -> None:
    """Show how a message is grouped: the masked text, the grouping and masking rules that matched, its pattern and fingerprint."""
    from log_gardener.tasks.explain import explain as explain_message
    from log_gardener.tasks.rules import load_rules
    from log_gardener.tasks.warehouses import duckdb_path, open_warehouse

    try:
        service_rules = load_rules(rules).for_service(service)
        path = duckdb_path(warehouse)
        wh = open_warehouse(warehouse) if path is None or Path(path).is_file() else None  # no history yet: nothing to open
        try:
            if wh is not None:
                wh.setup()
            result = explain_message(message, service, wh, service_rules.identity.min_similarity, service_rules.grouping)
        finally:
            if wh is not None:
                wh.close()
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    from rich.markup import escape

    for label, value in (
        ("grouped by", result.grouped_text),
        ("masked", result.masked),
        ("masking rules", ", ".join(result.masking_rules) or "none"),
        ("pattern", result.template),
        ("fingerprint", result.fingerprint),
        ("how", result.how),
        ("issue", f"#{result.issue_number}" if result.issue_number else "-"),
    ):
        out.print(f"[bold]{label}:[/] {escape(str(value))}", soft_wrap=True, highlight=False)


@app.command()
def retire(
    service: ServiceOption,
    start: StartOption,
    end: EndOption,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Take back a completed window of a service, so it blocks no other window.

    For a run that should not have been, such as a manual run off the hourly grid, which blocks the hours it
    overlaps. The window then counts in no baseline and its pattern counts are deleted. Its entries stay
    loaded, its worklog and issues stay as they are, and no later run adds them twice.
    """
    from log_gardener.tasks.google_credentials import MissingGoogleCredentials
    from log_gardener.tasks.normalise import Window
    from log_gardener.tasks.warehouses import check_warehouse_spec, duckdb_path, open_warehouse, records

    service = service.strip()
    try:
        if not service:
            raise ValueError("--service must not be empty")
        window = Window.parse(start, end)
        check_warehouse_spec(warehouse)
        path = duckdb_path(warehouse)
        wh = open_warehouse(warehouse) if path is None else _open_existing(warehouse, written_by_runs=True)
        if wh is None:
            raise ValueError(f"no warehouse at {path}: nothing has run there")
    except (ValueError, MissingGoogleCredentials) as exc:
        _fail(str(exc))
    try:
        retired = records.retire_window(wh, service, window)
    except ValueError as exc:
        _fail(str(exc))
    except Exception as exc:  # BigQuery: a dataset that does not exist, no access, the network
        _fail(f"{warehouse}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        wh.close()
    out.print(
        f"Retired {retired} run{'' if retired == 1 else 's'} of {service} for {window.start:%Y-%m-%d %H:%M}–{window.end:%Y-%m-%d %H:%M} UTC:"
        " its counts are out of the baselines and the windows it overlapped can run.",
        soft_wrap=True,
        highlight=False,
    )


@app.command()
def cluster(
    input: str = typer.Argument(..., help="Text file with one message per line, or - for stdin."),
    output: Path | None = typer.Option(None, "--output", "-o", help="CSV file to write (default: stdout)."),
) -> None:
    """Group messages into patterns; writes CSV `line,cluster_id,template`, one row per input line, in order."""
    from log_gardener.flows.cluster_command import CannotOpen, cluster_file

    if input != "-" and not Path(input).is_file():
        _fail(f"input file not found: {input}")
    try:
        cluster_file(input, output)
    except CannotOpen as exc:
        _fail(str(exc))


@app.command()
def sample(
    output: Path = typer.Option(Path("sample-logs.json"), "--output", "-o", help="File to write."),
    hours: int = typer.Option(3, min=1, help="Hours of logs, from --start."),
    start: str = typer.Option("2025-09-15T00:00:00Z", help="First hour (ISO 8601)."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same file."),
    scale: float = typer.Option(1.0, min=0.001, help="Multiply every pattern's volume (e.g. 100 for a benchmark)."),
    fmt: str = typer.Option("json", "--format", help="json (a JSON array, as gcloud prints) or ndjson."),
    corrupt: int = typer.Option(0, min=0, help="Add this many broken NDJSON lines (to see rejections)."),
) -> None:
    """Write realistic, seeded Cloud Run LogEntry JSON for demos, tests and benchmarks."""
    from log_gardener.sample import write_sample
    from log_gardener.tasks.normalise import parse_time

    if corrupt and fmt != "ndjson":
        _fail("--corrupt writes broken NDJSON lines: use --format ndjson (one broken element would leave a JSON array unreadable)")
    try:
        count = write_sample(output, start=parse_time(start, "start"), hours=hours, seed=seed, scale=scale, fmt=fmt, corrupt=corrupt)
    except ValueError as exc:
        _fail(str(exc))
    except OSError as exc:  # a folder, a missing folder, no permission
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    err.print(f"wrote {count} entries to {output}")


@app.command()
def demo(
    folder: Path = typer.Option(Path("demo"), help="Where the sample logs, the DuckDB warehouse and the worklogs go."),
    hours: int = typer.Option(3, min=1, help="Hourly windows to run."),
) -> None:
    """Generate the sample logs (three services) and run the fleet for consecutive hourly windows, on embedded defaults."""
    from log_gardener.flows.parameters import FleetParameters
    from log_gardener.sample import DEFAULT_START, SERVICE, write_sample

    if folder.exists() and not folder.is_dir():
        _fail(f"--folder {folder} is a file: give a folder for the demo's logs, warehouse and worklogs")
    if (problem := _unwritable(folder)) is not None:
        _fail(f"--folder {folder} cannot be written: {problem}")
    _quiet_prefect()
    from prefect import tags

    from log_gardener.flows.fleet import fleet as fleet_flow

    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "sample-logs.ndjson"
    count = write_sample(logs, start=DEFAULT_START, hours=hours, fmt="ndjson", corrupt=2)
    out.print(f"[bold]sample logs:[/] {count} entries (+2 broken lines) in {logs}")
    params = FleetParameters(
        source=str(logs), warehouse=f"duckdb:///{folder / 'gardener.duckdb'}", tracker="local", worklog_dir=str(folder / "worklogs")
    )
    for hour in range(hours):
        start = DEFAULT_START + timedelta(hours=hour)
        with tags("log-gardener", "demo"):
            result = fleet_flow(params, start.isoformat(), (start + timedelta(hours=1)).isoformat())
        for summary in result["runs"]:
            if summary["service"] == SERVICE or hour == hours - 1:
                print_clusters(summary)
        out.print(f"[bold]fleet digest:[/] {result['digest']}")
    out.print(f"[bold]worklogs:[/] {folder / 'worklogs'} (one folder per service, and _fleet/ with the digests)")
    out.print(
        f"[bold]warehouse:[/] {folder / 'gardener.duckdb'} (tables log_entries, clusters, cluster_counts, issue_actions, tracker_issues, ...)"
    )


def main() -> None:
    try:
        app()
    finally:
        # the process ends here: what it made needs no last collection pass (tens of milliseconds after a large `cluster`)
        gc.freeze()


if __name__ == "__main__":
    main()
