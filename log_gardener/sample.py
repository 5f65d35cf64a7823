"""A seeded generator of realistic Cloud Run LogEntry JSON, as `gcloud logging read` prints it.

The patterns follow a real backend's hour of errors: session-middleware
warnings that jump from about 5/min to about 15/min in hour 2, a startup race
condition, SSOT manager warnings with varying user ids, `POST /ws/beacon`
answered 405, and, from hour 3 on, a Redis connection traceback. INFO/DEBUG
noise and a second service are mixed in so the filters have work to do.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

PROJECT = "netra-staging"
SERVICE = "netra-backend-staging"
OTHER_SERVICE = "netra-frontend-staging"
REVISION = "netra-backend-staging-00645-l8x"
# the deploy of the third hour, which brings the Redis traceback
DEPLOYED_REVISION = "netra-backend-staging-00646-kq7"
DEPLOY_AFTER = timedelta(hours=2)
LOCATION = "us-central1"
DEFAULT_START = datetime(2025, 9, 15, 0, 0, tzinfo=UTC)

# entries per hour for each pattern, by hour index (the last value repeats)
SESSION_PER_HOUR = (306, 918, 918)
RACE_PER_HOUR = (7, 9, 6)
SSOT_PER_HOUR = (24, 26, 22)
BEACON_PER_HOUR = (8, 6, 9)
REDIS_PER_HOUR = (0, 0, 45)
NOISE_PER_HOUR = 600
OTHER_SERVICE_PER_HOUR = 40
# a third service, for the fleet: a background worker whose task retries grow and whose job fails in hour three
WORKER_SERVICE = "netra-worker-staging"
WORKER_RETRY_PER_HOUR = (20, 24, 22)
WORKER_FAILURE_PER_HOUR = (0, 0, 12)


def _per_hour(counts: tuple[int, ...], hour: int, scale: float) -> int:
    return int(round(counts[min(hour, len(counts) - 1)] * scale))


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SampleLogs:
    """Deterministic sample LogEntry objects for `hours` hours from `start`."""

    def __init__(self, start: datetime = DEFAULT_START, hours: int = 3, seed: int = 7, scale: float = 1.0):
        self.start = start
        self.hours = hours
        self.seed = seed
        self.scale = scale
        self._rng = random.Random(seed)
        self._serial = 0

    def _revision(self, ts: datetime) -> str:
        return DEPLOYED_REVISION if ts - self.start >= DEPLOY_AFTER else REVISION

    def _base(self, ts: datetime, severity: str, service: str = SERVICE) -> dict:
        self._serial += 1
        rng = self._rng
        return {
            "insertId": f"{self._serial:06x}{rng.getrandbits(40):010x}",
            "labels": {"instanceId": "0069c7a988eecd9134bf3634d198c51eb98c8e5ac8098b6badbe84b3190204"},
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
            "receiveTimestamp": _iso(ts + timedelta(milliseconds=rng.randint(20, 900))),
            "resource": {
                "labels": {
                    "configuration_name": service,
                    "location": LOCATION,
                    "project_id": PROJECT,
                    "revision_name": self._revision(ts) if service == SERVICE else f"{service}-00213-q2d",
                    "service_name": service,
                },
                "type": "cloud_run_revision",
            },
            "severity": severity,
            "timestamp": _iso(ts),
            "trace": f"projects/{PROJECT}/traces/{rng.getrandbits(128):032x}",
        }

    def _json(self, ts: datetime, severity: str, message: str, module: str, function: str, line: int) -> dict:
        entry = self._base(ts, severity)
        entry["jsonPayload"] = {
            "context": {"name": module, "service": "netra-service"},
            "labels": {"function": function, "line": str(line), "module": module},
            "message": message,
            "timestamp": ts.isoformat(),
        }
        return entry

    def session(self, ts: datetime) -> dict:
        return self._json(
            ts,
            "WARNING",
            "Session access failed (middleware not installed?): SessionMiddleware must be installed to access request.session",
            "logging",
            "callHandlers",
            1706,
        )

    def race(self, ts: datetime) -> dict:
        module = "netra_backend.app.websocket_core.gcp_initialization_validator"
        if self._serial % 2:
            return self._json(
                ts, "WARNING", "Cannot wait for startup phase - no app_state available", module, "_wait_for_startup_phase_completion", 727
            )
        waited = self._rng.uniform(0.5, 5.0)
        return self._json(
            ts,
            "ERROR",
            f"[\U0001f534] RACE CONDITION DETECTED: Startup phase 'no_app_state' did not reach 'services' within {waited:.1f}s"
            " - this would cause WebSocket 1011 errors",
            module,
            "validate_gcp_readiness_for_websocket",
            897,
        )

    def ssot(self, ts: datetime) -> dict:
        user = self._rng.choice([f"demo-user-{self._rng.randint(1, 40):03d}", f"usr_{self._rng.getrandbits(32):08x}"])
        return self._json(
            ts,
            "WARNING",
            f"SSOT validation issues (non-blocking): ['Multiple manager instances for user {user} - potential duplication']",
            "netra_backend.app.websocket_core.ssot_validation_enhancer",
            "validate_manager_creation",
            137,
        )

    def beacon(self, ts: datetime) -> dict:
        entry = self._base(ts, "WARNING")
        entry["logName"] = f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests"
        entry["httpRequest"] = {
            "requestMethod": "POST",
            "requestUrl": "https://api.staging.netrasystems.ai/ws/beacon",
            "status": 405,
            "latency": f"{self._rng.uniform(0.005, 0.04):.9f}s",
            "referer": "https://app.staging.netrasystems.ai/",
            "remoteIp": f"34.{self._rng.randint(0, 255)}.{self._rng.randint(0, 255)}.{self._rng.randint(1, 254)}",
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        }
        return entry

    def redis(self, ts: datetime) -> dict:
        entry = self._base(ts, "ERROR")
        host = f"10.12.{self._rng.randint(0, 3)}.{self._rng.randint(2, 250)}"
        entry["textPayload"] = (
            "Unhandled exception while refreshing the agent cache\n"
            "Traceback (most recent call last):\n"
            '  File "/app/netra_backend/app/services/cache.py", line 212, in refresh\n'
            "    await self._client.set(key, value, ex=ttl)\n"
            '  File "/usr/local/lib/python3.11/site-packages/redis/asyncio/client.py", line 611, in execute_command\n'
            "    conn = self.connection or await pool.get_connection(command_name, **options)\n"
            '  File "/usr/local/lib/python3.11/site-packages/redis/asyncio/connection.py", line 1058, in get_connection\n'
            "    await connection.connect()\n"
            f"redis.exceptions.ConnectionError: Error 111 connecting to {host}:6379. Connection refused."
        )
        return entry

    def noise(self, ts: datetime) -> dict:
        severity = self._rng.choice(["INFO", "INFO", "INFO", "DEBUG", "NOTICE"])
        return self._json(
            ts,
            severity,
            f"Request {self._rng.getrandbits(32):08x} completed in {self._rng.randint(3, 900)}ms",
            "netra_backend.app.middleware",
            "dispatch",
            88,
        )

    def worker_retry(self, ts: datetime) -> dict:
        entry = self._base(ts, "WARNING", WORKER_SERVICE)
        entry["jsonPayload"] = {
            "message": f"Task sync_invoices[{self._rng.getrandbits(64):016x}] retry in {self._rng.choice((10, 30, 60))}s: "
            "upstream billing API did not answer in 10s",
            "logger": "netra_worker.tasks.billing",
        }
        return entry

    def worker_failure(self, ts: datetime) -> dict:
        entry = self._base(ts, "ERROR", WORKER_SERVICE)
        entry["jsonPayload"] = {
            "message": f"Task sync_invoices gave up after 5 retries; {self._rng.randint(3, 40)} invoices left unsynced",
            "logger": "netra_worker.tasks.billing",
        }
        return entry

    def other_service(self, ts: datetime) -> dict:
        entry = self._base(ts, "ERROR", OTHER_SERVICE)
        entry["jsonPayload"] = {"message": f"Failed to render page /chat/{self._rng.randint(1, 999)}"}
        return entry

    def entries(self) -> Iterator[dict]:
        """All entries in timestamp order."""
        makers = [
            (SESSION_PER_HOUR, self.session),
            (RACE_PER_HOUR, self.race),
            (SSOT_PER_HOUR, self.ssot),
            (BEACON_PER_HOUR, self.beacon),
            (REDIS_PER_HOUR, self.redis),
            ((NOISE_PER_HOUR,), self.noise),
            ((OTHER_SERVICE_PER_HOUR,), self.other_service),
            (WORKER_RETRY_PER_HOUR, self.worker_retry),
            (WORKER_FAILURE_PER_HOUR, self.worker_failure),
        ]
        for hour in range(self.hours):
            hour_start = self.start + timedelta(hours=hour)
            planned = []
            for counts, maker in makers:
                for _ in range(_per_hour(counts, hour, self.scale)):
                    offset = timedelta(microseconds=self._rng.randrange(3_600 * 1_000_000))
                    planned.append((hour_start + offset, maker))
            planned.sort(key=lambda item: item[0])
            for ts, maker in planned:
                yield maker(ts)


def write_sample(
    path: Path | TextIO,
    *,
    start: datetime = DEFAULT_START,
    hours: int = 3,
    seed: int = 7,
    scale: float = 1.0,
    fmt: str = "json",
    corrupt: int = 0,
) -> int:
    """Write sample logs as a JSON array (`json`) or NDJSON (`ndjson`); returns the entry count.

    `corrupt` NDJSON lines are written broken on purpose, to show how rejections are recorded.
    """
    if fmt not in ("json", "ndjson"):
        raise ValueError(f"unknown format {fmt!r}: use json or ndjson")
    own = isinstance(path, (str, Path))
    out = open(path, "w", encoding="utf-8") if own else path
    count = 0
    try:
        if fmt == "json":
            out.write("[\n")
        for entry in SampleLogs(start, hours, seed, scale).entries():
            text = json.dumps(entry, indent=2 if fmt == "json" else None, ensure_ascii=False)
            if fmt == "json":
                out.write((",\n" if count else "") + text)
            else:
                out.write(text + "\n")
            count += 1
        if fmt == "ndjson":
            for i in range(corrupt):
                out.write(f'{{"insertId": "broken-{i}", "severity": "ERROR", "textPayload": "cut off\n')
        if fmt == "json":
            out.write("\n]\n")
    finally:
        if own:
            out.close()
    return count
