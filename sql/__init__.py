"""The SQL statements (BigQuery dialect), shipped as data of the `log_gardener.sql` package; `duckdb/` holds the few
that only DuckDB runs (a log file read, filtered and normalised in SQL)."""
