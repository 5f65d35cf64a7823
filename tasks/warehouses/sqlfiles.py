"""The `sql/` folder: BigQuery-dialect statements, one per file, and their DuckDB translation.

Every dialect difference is handled here: named parameters (`@name` to
`$name`), BigQuery-only table options (partitioning, clustering) and the
global flag of REGEXP_REPLACE are left to sqlglot's transpiler; BigQuery's
top n of a group, `ARRAY_AGG(x ORDER BY key LIMIT n)`, which DuckDB does not
take, becomes DuckDB's `arg_min(x, key, n)` here (`top_n_aggregates`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import cache
from pathlib import Path

# `sql/` sits two levels above this folder both in the repository and in the installed package.
SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql"
SCHEMA_TABLES = (
    "log_entries",
    "runs",
    "clusters",
    "cluster_keys",
    "cluster_counts",
    "issue_actions",
    "rejected_entries",
    "tracker_issues",
    "tracker_comments",
    "mute_events",
)


def sql_path(name: str) -> Path:
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path


@cache
def bigquery_sql(name: str) -> str:
    """The statement of `sql/<name>.sql`, as written (BigQuery dialect)."""
    return sql_path(name).read_text(encoding="utf-8")


@cache
def duckdb_sql(name: str) -> str:
    """The statement of `sql/<name>.sql` translated for DuckDB."""
    return to_duckdb(bigquery_sql(name))


def to_duckdb(statement: str) -> str:
    import sqlglot  # imported on first translation: commands that touch no warehouse start without it
    from sqlglot import ErrorLevel

    # Partitioning and clustering have no DuckDB meaning; sqlglot drops them with a log line.
    previous = logging.getLogger("sqlglot").level
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        trees = [tree for tree in sqlglot.parse(statement, read="bigquery") if tree is not None]
        if len(trees) != 1:
            raise ValueError(f"expected one statement, found {len(trees)}")
        return top_n_aggregates(trees[0]).sql(dialect="duckdb", unsupported_level=ErrorLevel.IGNORE)
    finally:
        logging.getLogger("sqlglot").setLevel(previous)


def top_n_aggregates(tree):
    """`tree` (a sqlglot tree) with each BigQuery `ARRAY_AGG(x ORDER BY k1, k2 LIMIT n)` made DuckDB's
    `arg_min({x}, {k1, k2}, n)` (`arg_max` for keys that all descend), each struct read back as x: the same n
    values in the same order, held n at a time where DuckDB's ordered ARRAY_AGG would keep and sort every row of
    the group.

    Each key is preceded by whether it is NULL, so NULLs come first ascending and last descending, as BigQuery
    orders them; x goes in a struct, since `arg_min` passes over a row whose x is NULL, where BigQuery takes it.
    The keys must all go one way and NULLs where BigQuery puts them by default; anything else is a ValueError,
    never another order.
    """
    import sqlglot
    from sqlglot import exp

    for node in list(tree.find_all(exp.ArrayAgg)):
        limit = node.this
        if not isinstance(limit, exp.Limit):
            continue
        if not isinstance(limit.this, exp.Order):
            raise ValueError(f"a top-n ARRAY_AGG needs an ORDER BY: {node.sql('bigquery')}")
        order = limit.this
        descending = {bool(key.args.get("desc")) for key in order.expressions}
        if len(descending) != 1 or any(bool(key.args.get("nulls_first")) == bool(key.args.get("desc")) for key in order.expressions):
            raise ValueError(f"a top-n ARRAY_AGG needs keys that all go one way, NULLs as BigQuery puts them: {node.sql('bigquery')}")
        fields = []
        for i, key in enumerate(order.expressions):
            known = exp.Not(this=exp.Is(this=key.this.copy(), expression=exp.Null()))
            fields.append(exp.PropertyEQ(this=exp.to_identifier(f"known_{i}"), expression=known))
            fields.append(exp.PropertyEQ(this=exp.to_identifier(f"key_{i}"), expression=key.this.copy()))
        function = "arg_max" if descending.pop() else "arg_min"
        value = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("value"), expression=order.this.copy())])
        top = exp.Anonymous(this=function, expressions=[value, exp.Struct(expressions=fields), limit.expression.copy()])
        values = sqlglot.parse_one("list_transform(top, kept -> kept.value)", read="duckdb")
        next(column for column in values.find_all(exp.Column) if column.name == "top").replace(top)
        node.replace(values)
    return tree


TABLE_PART = re.compile(r"^[A-Za-z0-9_\-]+$")  # one part of a project.dataset.table name


def rename_tables(statement: str, names: dict[str, str]) -> str:
    """`statement` (BigQuery dialect) with every reference to each table in `names` pointing at the name it maps
    to (by syntax tree, not text). A new name may be qualified (`project.dataset.table`; the table part may end in
    `*`)."""
    import sqlglot
    from sqlglot import exp

    new_parts = {}
    for old, new in names.items():
        parts = new.split(".")
        if not all(TABLE_PART.match(p.removesuffix("*")) for p in parts) or len(parts) > 3:
            raise ValueError(f"bad BigQuery table name {new!r}")
        new_parts[old] = parts
    tree = sqlglot.parse_one(statement, read="bigquery")
    for table in tree.find_all(exp.Table):
        parts = new_parts.get(table.name)
        if parts is None:
            continue
        table.set("this", exp.to_identifier(parts[-1], quoted="*" in parts[-1]))
        if len(parts) > 1:
            table.set("db", exp.to_identifier(parts[-2]))
        if len(parts) > 2:
            table.set("catalog", exp.to_identifier(parts[-3]))
    return tree.sql("bigquery")


def bound_parameters(statement: str, params: dict, marker: str) -> dict:
    """The parameters `statement` uses (`@name` or `$name`, by `marker`); a missing one is a KeyError."""
    wanted = set(re.findall(re.escape(marker) + r"(\w+)", statement))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"missing SQL parameters: {sorted(missing)}")
    return {key: value for key, value in params.items() if key in wanted}


def analyst_view_names() -> list[str]:
    """The analyst views of sql/analyst, created by every warehouse's setup."""
    return sorted(f"analyst/{p.stem}" for p in (SQL_DIR / "analyst").glob("*.sql"))


def migration_names() -> list[str]:
    """Statements of sql/migrations that bring tables of an older setup up to sql/schema, in name order; each is
    idempotent (`add column if not exists`), so every setup runs them all."""
    return sorted(f"migrations/{p.stem}" for p in (SQL_DIR / "migrations").glob("*.sql"))


def schema_version() -> str:
    """A digest of every statement setup runs (tables, migrations, views): a warehouse set up with this version
    needs no setup again."""
    names = [f"schema/{t}" for t in SCHEMA_TABLES] + migration_names() + analyst_view_names()
    digest = hashlib.sha1("\x1f".join(sql_path(n).read_text(encoding="utf-8") for n in names).encode()).hexdigest()
    return digest[:16]


def all_sql_names() -> list[str]:
    """Every statement name under sql/ (for wiring tests)."""
    return sorted(str(p.relative_to(SQL_DIR).with_suffix("")) for p in SQL_DIR.rglob("*.sql"))
