"""A loopback BigQuery REST API, executing on DuckDB, for the real google-cloud-bigquery client.

Speaks `jobs.query` (POST /projects/P/queries), multipart load jobs
(POST /upload/.../jobs?uploadType=multipart), `jobs.get`, dataset creation and
table deletion. Every query must parse as BigQuery SQL (sqlglot) or it is
answered 400 like BigQuery would; it then runs on DuckDB. Requests are kept
so tests can check what the client really sent: SQL text, bound parameters,
load job configurations.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler

import duckdb
import sqlglot
from sqlglot import exp

from log_gardener.tasks.normalise import parse_time
from log_gardener.tasks.warehouses.sqlfiles import to_duckdb
from tests.loopback import LoopbackServer

_DUCK_TYPES = {
    "STRING": "VARCHAR",
    "TIMESTAMP": "TIMESTAMPTZ",
    "INT64": "BIGINT",
    "INTEGER": "BIGINT",
    "FLOAT64": "DOUBLE",
    "FLOAT": "DOUBLE",
    "JSON": "JSON",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
}


def _bq_type(duck_type: str) -> str:
    t = str(duck_type).upper()
    if "TIMESTAMP" in t:
        return "TIMESTAMP"
    if t in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT"):
        return "INTEGER"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "FLOAT"
    if t == "BOOLEAN":
        return "BOOLEAN"
    if t == "DATE":
        return "DATE"
    return "STRING"


def _param_value(kind: dict, value: dict):
    if kind["type"] == "ARRAY":
        return [_param_value(kind["arrayType"], v) for v in value.get("arrayValues", [])]
    raw = value.get("value")
    if raw is None:
        return None
    return {"INT64": int, "FLOAT64": float, "BOOL": lambda v: v == "true", "TIMESTAMP": parse_time}.get(kind["type"], str)(raw)


def _cell(value, kind: str):
    if value is None:
        return None
    if kind == "TIMESTAMP":
        return str(int(value.astimezone(UTC).timestamp() * 1_000_000))
    if kind == "BOOLEAN":
        return "true" if value else "false"
    return str(value)


class FakeBigQuery(LoopbackServer):
    def __init__(self, project: str = "acme-prod"):
        self.project = project
        self.db = duckdb.connect()
        self.db.execute("set TimeZone = 'UTC'")
        self.queries: list[dict] = []
        self.datasets: dict[str, dict] = {}  # datasetId -> its resource (labels included)
        self.loads: list[dict] = []
        self.lock = threading.Lock()
        self._serve()

    # execution -------------------------------------------------------------------
    def run_script(self, script: str, params: dict) -> tuple[list, list, int | None]:
        statements = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]  # raises on invalid BigQuery SQL
        schema, rows, affected = [], [], None
        for statement in statements:
            for table in statement.find_all(exp.Table):  # project.dataset.table -> table
                table.set("db", None)
                table.set("catalog", None)
            duck = to_duckdb(statement.sql("bigquery"))
            names = set(re.findall(r"\$(\w+)", duck))
            cursor = self.db.execute(duck, {k: v for k, v in params.items() if k in names})
            if isinstance(statement, exp.Query):
                schema = [{"name": d[0], "type": _bq_type(d[1]), "mode": "NULLABLE"} for d in cursor.description]
                rows = cursor.fetchall()
            elif isinstance(statement, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
                result = cursor.fetchall()
                affected = int(result[0][0]) if result else 0
        return schema, rows, affected

    def load(self, config: dict, data: bytes) -> None:
        load = config["configuration"]["load"]
        table = load["destinationTable"]["tableId"]
        if not re.fullmatch(r"\w+", table):
            raise ValueError(f"bad table {table}")
        columns = ", ".join(f'"{f["name"]}" {_DUCK_TYPES.get(f["type"], "VARCHAR")}' for f in load["schema"]["fields"])
        self.db.execute(f"create table if not exists {table} ({columns})")
        if load.get("writeDisposition") == "WRITE_TRUNCATE":
            self.db.execute(f"delete from {table}")
        names = [f["name"] for f in load["schema"]["fields"]]
        records = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        if records:
            placeholders = ", ".join("?" for _ in names)
            self.db.executemany(
                f"insert into {table} ({', '.join(names)}) values ({placeholders})", [[r.get(n) for n in names] for r in records]
            )

    # HTTP ------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict | None = None) -> None:
                body = json.dumps(payload or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str, reason: str) -> None:
                self._send(status, {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _job(self, job_id: str, kind: str) -> dict:
                return {
                    "kind": "bigquery#job",
                    "id": f"{fake.project}:US.{job_id}",
                    "jobReference": {"projectId": fake.project, "jobId": job_id, "location": "US"},
                    "configuration": {"jobType": kind},
                    "status": {"state": "DONE"},
                    "statistics": {"creationTime": "0", "startTime": "0", "endTime": "0"},
                }

            def do_GET(self):
                match = re.match(r"^/bigquery/v2/projects/[^/]+/jobs/([^/?]+)", self.path)
                if match:
                    return self._send(200, self._job(match.group(1), "LOAD"))
                match = re.match(r"^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/(\w+)$", self.path.split("?")[0])
                if match:  # tables.get: the schema of a table the fake holds
                    project, dataset, table = match.groups()
                    with fake.lock:
                        rows = fake.db.execute(
                            "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position",
                            [table],
                        ).fetchall()
                    if not rows:
                        return self._error(404, f"Not found: Table {project}:{dataset}.{table}", "notFound")
                    fields = [{"name": name, "type": _bq_type(kind), "mode": "NULLABLE"} for name, kind in rows]
                    reference = {"projectId": project, "datasetId": dataset, "tableId": table}
                    return self._send(200, {"tableReference": reference, "schema": {"fields": fields}})
                match = re.match(r"^/bigquery/v2/projects/([^/]+)/datasets/([^/?]+)$", self.path.split("?")[0])
                if match:
                    if match.group(2) not in fake.datasets:
                        return self._error(404, f"Not found: Dataset {match.group(1)}:{match.group(2)}", "notFound")
                    return self._send(200, fake.datasets[match.group(2)])
                self._error(404, f"Not found: {self.path}", "notFound")

            def do_PATCH(self):
                match = re.match(r"^/bigquery/v2/projects/[^/]+/datasets/([^/?]+)$", self.path.split("?")[0])
                if not match or match.group(1) not in fake.datasets:
                    return self._error(404, f"Not found: {self.path}", "notFound")
                changes = json.loads(self._body())
                fake.datasets[match.group(1)] |= {k: v for k, v in changes.items() if k == "labels"}
                return self._send(200, fake.datasets[match.group(1)])

            def do_DELETE(self):
                match = re.match(r"^/bigquery/v2/projects/[^/]+/datasets/[^/]+/tables/(\w+)", self.path)
                if match:
                    with fake.lock:
                        fake.db.execute(f"drop table if exists {match.group(1)}")
                    self.send_response(204)
                    self.end_headers()
                    return
                self._error(404, "Not found", "notFound")

            def do_POST(self):
                path = self.path.split("?")[0]
                body = self._body()
                if re.fullmatch(r"/bigquery/v2/projects/[^/]+/datasets", path):
                    data = json.loads(body) | {"location": "US"}
                    name = data["datasetReference"]["datasetId"]
                    if name in fake.datasets:
                        return self._error(409, f"Already Exists: Dataset {fake.project}:{name}", "duplicate")
                    fake.datasets[name] = data
                    return self._send(200, data)
                if re.fullmatch(r"/bigquery/v2/projects/[^/]+/queries", path):
                    return self._query(json.loads(body))
                if re.fullmatch(r"/upload/bigquery/v2/projects/[^/]+/jobs", path) and "uploadType=multipart" in self.path:
                    message = BytesParser(policy=email_policy).parsebytes(
                        f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
                    )
                    parts = list(message.iter_parts())
                    config = json.loads(parts[0].get_content())
                    data = parts[1].get_payload(decode=True)
                    fake.loads.append(config)
                    try:
                        with fake.lock:
                            fake.load(config, data)
                    except Exception as exc:  # noqa: BLE001 - reported like BigQuery would
                        return self._error(400, str(exc), "invalid")
                    job_id = config.get("jobReference", {}).get("jobId") or uuid.uuid4().hex
                    return self._send(200, self._job(job_id, "LOAD") | {"configuration": config["configuration"]})
                self._error(404, f"Not found: {path}", "notFound")

            def _query(self, request: dict) -> None:
                fake.queries.append(request)
                params = {p["name"]: _param_value(p["parameterType"], p["parameterValue"]) for p in request.get("queryParameters", [])}
                try:
                    with fake.lock:
                        schema, rows, affected = fake.run_script(request["query"], params)
                except Exception as exc:  # noqa: BLE001 - BigQuery answers invalid queries with 400
                    return self._error(400, f"{type(exc).__name__}: {exc}", "invalidQuery")
                job_id = uuid.uuid4().hex
                response = {
                    "kind": "bigquery#queryResponse",
                    "jobReference": {"projectId": fake.project, "jobId": job_id, "location": "US"},
                    "jobComplete": True,
                    "schema": {"fields": schema},
                    "rows": [{"f": [{"v": _cell(v, f["type"])} for v, f in zip(row, schema)]} for row in rows],
                    "totalRows": str(len(rows)),
                    "queryId": job_id,
                }
                if affected is not None:
                    response["numDmlAffectedRows"] = str(affected)
                self._send(200, response)

        return Handler
