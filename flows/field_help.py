"""What each run parameter means, in one place: the parameter models of the flows (Prefect's run form) and the
command line's help read it, so a command that runs no flow (`gardener cluster`) starts without building the models."""

FIELD_HELP: dict[str, str] = {
    "source": (
        "Where the entries come from: a LogEntry file (gcloud JSON array, NDJSON or indented entries), cloud-logging:PROJECT (the Logging"
        " API) or bq-sink:PROJECT.DATASET.TABLE (a Log Router sink table)."
    ),
    "warehouse": "duckdb:///path.duckdb (a local file) or bigquery:PROJECT.DATASET.",
    "tracker": "local (issues kept in the warehouse) or github:OWNER/REPO.",
    "rules_path": "Priority rules TOML file; empty for the bundled default rules.",
    "min_severity": (
        "Lowest severity collected: a Cloud Logging severity (DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL,"
        " ALERT, EMERGENCY; any case) or its number (400 is WARNING)."
    ),
    "logging_filter": (
        'Extra query for cloud-logging sources, in gcloud logging read syntax (e.g. jsonPayload.module:"websocket"); empty for none.'
    ),
    "worklog_dir": (
        "Folder for the markdown worklogs; a relative path is taken from the worker's working directory (default: "
        "GARDENER_WORKLOGS on the worker, else ./worklogs)."
    ),
    "publish_issues": "Create and update tracker issues; false records the run without touching the tracker.",
    "worklog_repo": (
        "Also commit each worklog to a GitHub repository: OWNER/REPO[:FOLDER][@BRANCH] (default folder worklogs, "
        "default branch the repository's), with the tracker's GITHUB_TOKEN; empty for none (default: "
        "GARDENER_WORKLOG_REPO). Only runs that publish commit."
    ),
    "service": "Service name: the Cloud Run service_name label of the entries.",
    "services": (
        "all (any case: every service with entries in the window, found in one pass, and every one run in the week before)"
        " or a comma-separated list of names; a listed name with neither is reported, not run (most likely a typo)."
    ),
    "max_parallel": "At most this many services run at once (DuckDB warehouses run one at a time).",
}


def describe(field: str) -> str:
    """The description of a field, for the command line's help."""
    return FIELD_HELP[field]
