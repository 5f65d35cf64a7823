"""Start bqemulator (run by the Python of its own virtualenv, .bqemu/venv) with two fixes that make it answer
as BigQuery does where google-cloud-bigquery depends on it:

- a query that fails answers HTTP 400 with the error, as BigQuery does; bqemulator answers 200 with an `errors`
  field, which the client's `query_and_wait` does not read, so a broken statement would pass unnoticed;
- a multipart upload whose media part is typed `*/*` (what `load_table_from_json` sends) is accepted.

Arguments are those of `bqemulator start`.
"""

import json
import sys

import bqemulator.api.routes.upload as upload
import bqemulator.server as server
from bqemulator.cli import main
from starlette.responses import Response

upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")
_create_app = server.create_app


def create_app(*args, **kwargs):
    app = _create_app(*args, **kwargs)

    @app.middleware("http")
    async def failed_queries_answer_400(request, call_next):
        response = await call_next(request)
        if request.method != "POST" or not request.url.path.endswith("/queries") or response.status_code != 200:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])
        data = json.loads(body or b"{}")
        if data.get("errors") and data.get("jobComplete") and not data.get("schema", {}).get("fields"):
            error = data["errors"][0]
            sys.stderr.write(f"query failed: {error.get('message')}\n")
            payload = {"error": {"code": 400, "message": error.get("message"), "errors": data["errors"], "status": "INVALID_ARGUMENT"}}
            return Response(json.dumps(payload), status_code=400, media_type="application/json")
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(body, status_code=200, headers=headers)

    return app


server.create_app = create_app
sys.argv = ["bqemulator", "start", *sys.argv[1:]]
main()
