"""Log Gardener: a service's WARNING+ Cloud Logging entries grouped into patterns, tracked hour by hour.

The import package maps the repository's top-level folders: `flows/` is
`log_gardener.flows`, `tasks/` is `log_gardener.tasks`, `sql/` is
`log_gardener.sql` (see `[tool.setuptools]` in pyproject.toml).
"""

__version__ = "0.2.0"
