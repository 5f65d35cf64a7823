"""The SQL statements (BigQuery dialect), shipped as data of the `log_gardener.sql` package."""
