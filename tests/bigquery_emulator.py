"""bqemulator, an independent BigQuery emulator, as a subprocess on a free loopback port.

It runs from its own virtualenv, `.bqemu/` (made by `make test` from requirements-bqemulator.lock), with DuckDB's
spatial extension placed where DuckDB looks for it (`.bqemu/home`), since nothing can be downloaded at test time.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import sqlglot

from log_gardener.tasks.warehouses.bigquery import name_tables_in_full

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".bqemu"
PYTHON = HOME / "venv" / "bin" / "python"


def available() -> bool:
    return PYTHON.is_file() and any((HOME / "home" / ".duckdb" / "extensions").rglob("spatial.duckdb_extension"))


class Emulator:
    """`with Emulator() as bq:`: a fresh, empty BigQuery at `bq.url` for project `acme-prod`."""

    def __init__(self, project: str = "acme-prod", dataset: str = "log_gardener"):
        if not available():
            if os.environ.get("GARDENER_REQUIRE_BQEMU"):  # make test sets it: a missing emulator is a failure there
                raise RuntimeError("bqemulator is not set up in .bqemu/ (make .bqemu/.installed)")
            pytest.skip("bqemulator is not set up: run `make test` (it makes .bqemu/)")
        self.project, self.dataset = project, dataset
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Emulator:
        self._log = open(HOME / f"emulator-{self.port}.log", "w+")
        args = [str(PYTHON), "-P", str(ROOT / "tests" / "bqemulator_launch.py"), "--rest-host", "127.0.0.1", "--rest-port", str(self.port)]
        args += ["--grpc-host", "127.0.0.1", "--grpc-port", "0", "--ephemeral", "--project", self.project, "--log-level", "warning"]
        env = os.environ | {"HOME": str(HOME / "home"), "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"}
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bqemulator exited with {self.process.returncode}: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"bqemulator was not ready in 60 s: {self.log()[-2000:]}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.url})

    def rows(self, statement: str) -> list[tuple]:
        """The rows of one query, its unqualified tables read from the warehouse dataset."""
        tree = name_tables_in_full(sqlglot.parse_one(statement, read="bigquery"), self.project, self.dataset)
        client = self.client()
        try:
            return [tuple(row.values()) for row in client.query_and_wait(tree.sql("bigquery"))]
        finally:
            client.close()

    def tables(self) -> list[str]:
        """The tables of the warehouse dataset."""
        client = self.client()
        try:
            return [table.table_id for table in client.list_tables(f"{self.project}.{self.dataset}")]
        finally:
            client.close()

    def load_sink_table(self, table_id: str, path: Path) -> None:
        """A Log Router sink table (schema detected from the entries) from an NDJSON file; broken lines are left out."""
        from google.cloud import bigquery

        good = []
        for line in path.read_bytes().splitlines():
            try:
                json.loads(line)
                good.append(line)
            except ValueError:
                pass
        client = self.client()
        try:
            client.create_dataset(table_id.rsplit(".", 1)[0], exists_ok=True)
            config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON", autodetect=True)
            client.load_table_from_file(io.BytesIO(b"\n".join(good)), table_id, job_config=config).result()
        finally:
            client.close()
