"""A loopback HTTP server speaking the subset of the GitHub REST API that GitHubTracker uses.

Repos, issues, comments, labels, search and Link-header pagination, with the
JSON shapes PyGithub reads; faults on demand (5xx, primary and secondary rate
limits) to prove retries. Every request is counted, so tests can say how many
calls failed and how many writes landed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from tests.loopback import LoopbackServer


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(LoopbackServer):
    def __init__(self, token: str = "test-token", repos: tuple[str, ...] = ("acme/backend",), per_page: int = 30):
        self.token = token
        self.per_page = per_page
        self.repos = {name: {"issues": {}, "labels": {}, "comments": {}, "files": {}, "commits": []} for name in repos}
        self.faults: list[tuple[str, str, str]] = []  # (method, path regex, kind)
        self.requests: list[tuple[str, str, int]] = []
        self.assignable: set[str] | None = None  # logins that can be assigned; None: any
        self.branches = {"main"}  # of every repository
        self._lock = threading.Lock()
        self._comment_id = 1000
        self._serve()

    # test helpers --------------------------------------------------------------
    def inject(self, method: str, path_regex: str, kind: str, times: int = 1) -> None:
        """Answer the next `times` matching requests with a fault: 502, 'primary' or 'secondary' (nothing applied),
        or 'ghost' (the write is applied, the answer is a 502) and 'drop' (applied, the connection closes unanswered)."""
        self.faults.extend([(method, path_regex, kind)] * times)

    def add_issue(
        self, repo: str, title: str, body: str = "", labels: tuple[str, ...] = (), state: str = "open", number: int | None = None
    ) -> dict:
        """An issue filed by a person (for duplicate detection tests)."""
        with self._lock:
            return self._create_issue(
                repo, {"title": title, "body": body, "labels": list(labels)}, state=state, number=number, user="human"
            )

    def issues(self, repo: str) -> list[dict]:
        return sorted(self.repos[repo]["issues"].values(), key=lambda i: i["number"])

    def comments(self, repo: str, number: int) -> list[str]:
        return [c["body"] for c in self.repos[repo]["comments"].get(number, [])]

    @property
    def failed(self) -> int:
        return sum(1 for _, _, status in self.requests if status >= 400 or status == 0)

    # model ---------------------------------------------------------------------
    def _repo_json(self, name: str) -> dict:
        owner, short = name.split("/")
        return {
            "id": abs(hash(name)) % 10**6,
            "name": short,
            "full_name": name,
            "owner": {"login": owner, "id": 1, "type": "Organization"},
            "url": f"{self.url}/repos/{name}",
            "html_url": f"https://github.example/{name}",
            "private": False,
            "default_branch": "main",
        }

    def file(self, repo: str, path: str, branch: str = "main") -> str | None:
        """The text of a file on a branch, as the contents API stores it."""
        stored = self.repos[repo]["files"].get((branch, path))
        return None if stored is None else base64.b64decode(stored["content"]).decode("utf-8")

    def commits(self, repo: str) -> list[dict]:
        return list(self.repos[repo]["commits"])

    def _file_json(self, repo: str, branch: str, path: str) -> dict:
        stored = self.repos[repo]["files"][(branch, path)]
        url = f"{self.url}/repos/{repo}/contents/{path}?ref={branch}"
        return {
            "type": "file",
            "encoding": "base64",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": stored["sha"],
            "size": len(base64.b64decode(stored["content"])),
            "content": stored["content"],
            "url": url,
            "html_url": f"https://github.example/{repo}/blob/{branch}/{path}",
            "git_url": None,
            "download_url": None,
            "_links": {"self": url},
        }

    def _label_json(self, repo: str, name: str) -> dict:
        label = self.repos[repo]["labels"][name]
        return {"id": label["id"], "name": name, "color": label["color"], "url": f"{self.url}/repos/{repo}/labels/{name}", "default": False}

    def _ensure_label(self, repo: str, name: str, color: str = "ededed") -> None:
        labels = self.repos[repo]["labels"]
        if name not in labels:
            labels[name] = {"id": len(labels) + 1, "color": color}

    def _issue_json(self, repo: str, issue: dict) -> dict:
        number = issue["number"]
        return {
            "id": 10_000 + number,
            "number": number,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "state_reason": issue.get("state_reason"),
            "labels": [self._label_json(repo, name) for name in issue["labels"]],
            "user": {"login": issue["user"], "id": 7},
            "assignees": [{"login": login, "id": 100 + i} for i, login in enumerate(issue.get("assignees", []))],
            "comments": len(self.repos[repo]["comments"].get(number, [])),
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"],
            "url": f"{self.url}/repos/{repo}/issues/{number}",
            "html_url": f"https://github.example/{repo}/issues/{number}",
            "comments_url": f"{self.url}/repos/{repo}/issues/{number}/comments",
            "repository_url": f"{self.url}/repos/{repo}",
        }

    def _create_issue(self, repo: str, data: dict, state: str = "open", number: int | None = None, user: str = "gardener-bot") -> dict:
        issues = self.repos[repo]["issues"]
        number = number or max(list(issues) + [0]) + 1
        for name in data.get("labels") or []:
            self._ensure_label(repo, name)
        issues[number] = {
            "number": number,
            "title": data["title"],
            "body": data.get("body") or "",
            "state": state,
            "labels": list(dict.fromkeys(data.get("labels") or [])),
            "assignees": list(dict.fromkeys(data.get("assignees") or [])),
            "user": user,
            "created_at": _now(),
            "updated_at": _now(),
            "closed_at": _now() if state == "closed" else None,
            "state_reason": "completed" if state == "closed" else None,
        }
        return issues[number]

    # HTTP ----------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, payload, headers: dict | None = None) -> None:
                ghost = getattr(self, "ghost", None)
                if ghost == "drop":
                    fake.requests.append((self.command, self.path, 0))
                    self.close_connection = True
                    return
                if ghost == "ghost":
                    status, payload, headers = 502, {"message": "Server Error"}, {}
                    self.ghost = None
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-RateLimit-Limit", "5000")
                self.send_header("X-RateLimit-Remaining", "4999" if status != 403 else "0")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                fake.requests.append((self.command, self.path, status))

            def _fault(self) -> bool:
                path = urlsplit(self.path).path
                with fake._lock:
                    for i, (method, regex, fault_kind) in enumerate(fake.faults):
                        if method == self.command and re.search(regex, path):
                            del fake.faults[i]
                            kind = fault_kind
                            break
                    else:
                        return False
                if kind in ("ghost", "drop"):
                    self.ghost = kind  # applied below, answered badly
                    return False
                if kind == "primary":
                    reset = str(int(time.time()) + 1)
                    self._send(403, {"message": "API rate limit exceeded for user ID 1."}, {"X-RateLimit-Reset": reset})
                elif kind == "secondary":
                    self._send(
                        403,
                        {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
                        {"Retry-After": "1"},
                    )
                else:
                    self._send(502, {"message": "Server Error"})
                return True

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"null") if length else None

            def _page(self, items: list, query: dict) -> None:
                page = int(query.get("page", ["1"])[0])
                per_page = min(int(query.get("per_page", [str(fake.per_page)])[0]), 100)  # GitHub serves at most 100 a page
                chunk = items[(page - 1) * per_page : page * per_page]
                headers = {}
                if page * per_page < len(items):
                    parts = urlsplit(self.path)
                    others = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
                    headers["Link"] = f'<{fake.url}{parts.path}?{others}&page={page + 1}>; rel="next"'
                self._send(200, chunk, headers)

            def do_GET(self):
                self._route()

            def do_POST(self):
                self._route()

            def do_PATCH(self):
                self._route()

            def do_PUT(self):
                self._route()

            def _route(self):
                auth = self.headers.get("Authorization", "")
                if auth.split(" ")[-1] != fake.token:
                    return self._send(401, {"message": "Bad credentials"})
                self.ghost = None
                if self._fault():
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                path = unquote(parts.path)
                with fake._lock:
                    return self._dispatch(path, query)

            def _dispatch(self, path: str, query: dict):
                method = self.command
                if path == "/search/issues":
                    return self._search(query)
                match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
                if not match or match.group(1) not in fake.repos:
                    return self._send(404, {"message": "Not Found"})
                repo, rest = match.group(1), match.group(2) or ""
                data = fake.repos[repo]
                if rest == "" and method == "GET":
                    return self._send(200, fake._repo_json(repo))
                branch = re.fullmatch(r"/branches/(.+)", rest)
                if branch and method == "GET":
                    if branch.group(1) not in fake.branches:
                        return self._send(404, {"message": "Branch not found"})
                    return self._send(200, {"name": branch.group(1), "commit": {"sha": "0" * 40, "url": ""}, "protected": False})
                contents = re.fullmatch(r"/contents/(.+)", rest)
                if contents:
                    return self._contents(repo, contents.group(1), query)
                if rest == "/labels":
                    if method == "GET":
                        return self._page([fake._label_json(repo, n) for n in data["labels"]], query)
                    body = self._body()
                    if body["name"] in data["labels"]:
                        return self._send(422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]})
                    fake._ensure_label(repo, body["name"], body.get("color", "ededed"))
                    return self._send(201, fake._label_json(repo, body["name"]))
                if rest == "/issues":
                    if method == "POST":
                        body = self._body()
                        unknown = [
                            login for login in body.get("assignees") or [] if fake.assignable is not None and login not in fake.assignable
                        ]
                        if unknown:  # GitHub refuses the whole issue when one login cannot be assigned
                            errors = [{"resource": "Issue", "field": "assignees", "code": "invalid", "value": unknown}]
                            return self._send(422, {"message": "Validation Failed", "errors": errors})
                        issue = fake._create_issue(repo, body)
                        return self._send(201, fake._issue_json(repo, issue))
                    state = query.get("state", ["open"])[0]
                    wanted = [name for name in query.get("labels", [""])[0].split(",") if name]  # every one, as GitHub does
                    items = [
                        fake._issue_json(repo, i)
                        for i in fake.issues(repo)
                        if (state == "all" or i["state"] == state) and all(name in i["labels"] for name in wanted)
                    ]
                    return self._page(items, query)
                issue_match = re.fullmatch(r"/issues/(\d+)(/comments|/labels)?", rest)
                if not issue_match or int(issue_match.group(1)) not in data["issues"]:
                    return self._send(404, {"message": "Not Found"})
                number, sub = int(issue_match.group(1)), issue_match.group(2)
                issue = data["issues"][number]
                if sub is None and method == "GET":
                    return self._send(200, fake._issue_json(repo, issue))
                if sub is None and method == "PATCH":
                    body = self._body()
                    before = issue["state"]
                    for key in ("title", "body", "state"):
                        if key in body:
                            issue[key] = body[key]
                    if "state_reason" in body:
                        issue["state_reason"] = body["state_reason"]
                    elif issue["state"] != before:  # GitHub's defaults: closing completes, reopening reopens
                        issue["state_reason"] = "completed" if issue["state"] == "closed" else "reopened"
                    if "labels" in body:
                        for name in body["labels"]:
                            fake._ensure_label(repo, name)
                        issue["labels"] = list(body["labels"])
                    issue["closed_at"] = _now() if issue["state"] == "closed" else None
                    issue["updated_at"] = _now()
                    return self._send(200, fake._issue_json(repo, issue))
                if sub == "/comments":
                    comments = data["comments"].setdefault(number, [])
                    if method == "POST":
                        fake._comment_id += 1
                        comment = {
                            "id": fake._comment_id,
                            "body": self._body()["body"],
                            "user": {"login": "gardener-bot", "id": 8},
                            "created_at": _now(),
                            "updated_at": _now(),
                            "url": f"{fake.url}/repos/{repo}/issues/comments/{fake._comment_id}",
                            "html_url": f"https://github.example/{repo}/issues/{number}#issuecomment-{fake._comment_id}",
                        }
                        comments.append(comment)
                        issue["updated_at"] = _now()
                        return self._send(201, comment)
                    return self._page(comments, query)
                if sub == "/labels" and method in ("PUT", "POST"):
                    names = self._body()
                    names = names.get("labels", []) if isinstance(names, dict) else names
                    for name in names:
                        fake._ensure_label(repo, name)
                    issue["labels"] = list(dict.fromkeys(names if method == "PUT" else issue["labels"] + names))
                    return self._send(200, [fake._label_json(repo, n) for n in issue["labels"]])
                return self._send(404, {"message": "Not Found"})

            def _contents(self, repo: str, path: str, query: dict):
                files = fake.repos[repo]["files"]
                if self.command == "GET":
                    branch = query.get("ref", ["main"])[0]
                    if (branch, path) not in files:
                        return self._send(404, {"message": "Not Found"})
                    return self._send(200, fake._file_json(repo, branch, path))
                if self.command != "PUT":
                    return self._send(404, {"message": "Not Found"})
                body = self._body()
                branch = body.get("branch") or "main"
                stored = files.get((branch, path))
                if stored is not None and not body.get("sha"):
                    return self._send(422, {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'})
                if stored is not None and body["sha"] != stored["sha"]:
                    return self._send(409, {"message": f"{path} does not match {body['sha']}"})
                content = body["content"]
                sha = hashlib.sha1(base64.b64decode(content)).hexdigest()
                files[(branch, path)] = {"content": content, "sha": sha}
                commit = {
                    "sha": hashlib.sha1(f"{path}{sha}{len(fake.repos[repo]['commits'])}".encode()).hexdigest(),
                    "message": body["message"],
                }
                fake.repos[repo]["commits"].append(commit | {"path": path, "branch": branch})
                return self._send(201 if stored is None else 200, {"content": fake._file_json(repo, branch, path), "commit": commit})

            def _search(self, query: dict):
                q = query.get("q", [""])[0]
                repo_match = re.search(r"repo:(\S+)", q)
                phrases = re.findall(r'"([^"]+)"', q)
                words = [w for w in re.sub(r'"[^"]+"|\S+:\S+', " ", q).split()]
                repos = [repo_match.group(1)] if repo_match else list(fake.repos)
                items = []
                for repo in repos:
                    for issue in fake.issues(repo) if repo in fake.repos else []:
                        text = " ".join([issue["title"], issue["body"]] + fake.comments(repo, issue["number"])).lower()
                        if all(p.lower() in text for p in phrases) and all(w.lower() in text for w in words):
                            items.append(fake._issue_json(repo, issue))
                page = int(query.get("page", ["1"])[0])
                per_page = min(int(query.get("per_page", [str(fake.per_page)])[0]), 100)  # GitHub serves at most 100 a page
                self._send(
                    200, {"total_count": len(items), "incomplete_results": False, "items": items[(page - 1) * per_page : page * per_page]}
                )

        return Handler
