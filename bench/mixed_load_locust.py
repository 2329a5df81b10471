"""
Locust users of bench/mixed_load.sh and bench/faults.sh: tabs of lab members who log in through the real
login form (CSRF token from the form), then browse, search, open papers, star and unstar, add notes, work the
inbox and look at the dashboard, sending the page's CSRF token with every POST as htmx does.

Every request is written to RUN_DIR/requests.jsonl (start time, kind, status, latency, what it wrote):
bench/mixed_load.py makes the figures from that file, not from Locust's own statistics.

Each member logs in once (their first tab); their other tabs share the cookies, as a browser's do.
The measured window opens when the last user has logged in and lasts DURATION seconds; then each user
stops after the task it is in, so that every request started in the window is answered and counted.

Environment: RUN_DIR (with plan.json from `mixed_load.py prepare`), DURATION (seconds; a file RUN_DIR/stop
ends the window early), MODE ("mixed":
the full mix, no pause between tasks; "faults": a light steady load whose writes only add, so that
none can be undone by a later one), THINK_MIN / THINK_MAX (seconds between tasks).
"""

import json
import os
import random
import re
import time
import uuid
from pathlib import Path

import gevent
from gevent.event import AsyncResult
from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

RUN_DIR = Path(os.environ["RUN_DIR"])
PLAN = json.loads((RUN_DIR / "plan.json").read_text())
DURATION = float(os.environ.get("DURATION", "60"))
MODE = os.environ.get("MODE", "mixed")
THINK_MIN = float(os.environ.get("THINK_MIN", "0"))
THINK_MAX = float(os.environ.get("THINK_MAX", "0"))

LAB, CONFERENCE = PLAN["lab"], PLAN["conference"]
BASE = f"/labs/{LAB}/{CONFERENCE}"
HTMX = {"HX-Request": "true"}
LOGIN_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGE_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
OUTAGE_TEXT = "The database is briefly unavailable. Try again in a moment."


class Run:
    """What the users share: the records, the window, who is ready and who has stopped."""

    records: list[dict] = []
    users = 0  # how many the run starts (locust -u)
    spawned = 0
    ready = 0
    stopped = 0
    window_start: float | None = None
    window_end: float | None = None
    closing = False
    environment = None
    logins: dict[str, AsyncResult] = {}  # member → the cookies of their log-in (None: it failed)


def started(user_count: int) -> None:
    Run.ready += 1
    if Run.ready == user_count and Run.window_start is None:
        Run.window_start = time.time()
        (RUN_DIR / "ready").write_text(f"{Run.window_start:.6f}\n")
        gevent.spawn(close_window)


def close_window() -> None:
    # After DURATION, or earlier when bench/faults.sh has seen what it needed (RUN_DIR/stop).
    while time.time() - Run.window_start < DURATION and not (RUN_DIR / "stop").exists():
        gevent.sleep(0.1)
    Run.window_end = time.time()
    Run.closing = True
    deadline = time.monotonic() + 60
    while Run.stopped < Run.users and time.monotonic() < deadline:
        gevent.sleep(0.1)
    Run.environment.runner.quit()


@events.test_start.add_listener
def on_test_start(environment, **kwargs) -> None:
    Run.environment = environment
    Run.users = environment.parsed_options.num_users


@events.request.add_listener
def on_request(request_type, name, response_time, response, context, exception, start_time, **kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    record = {"t": start_time, "ms": round(response_time, 3), "kind": name, "method": request_type, "status": status}
    if status == 0:
        record["error"] = f"{type(exception).__name__}: {exception}"[:300]
    elif status == 503:
        # The friendly page (or its htmx message), with Retry-After: checked for every 503.
        body = response.text or ""
        record["friendly"] = OUTAGE_TEXT in body and response.headers.get("Retry-After") == "5"
        sample = RUN_DIR / f"sample_503_{'htmx' if body.startswith('<p') else 'page'}.html"
        if not sample.exists():
            sample.write_text(body)
    elif status >= 500:
        sample = RUN_DIR / f"sample_{status}.html"
        if not sample.exists():
            sample.write_text(response.text or "")
    if context:
        record.update(context)
    Run.records.append(record)


@events.test_stop.add_listener
def on_test_stop(**kwargs) -> None:
    meta = {"window_start": Run.window_start, "window_end": Run.window_end, "users": Run.users, "mode": MODE}
    (RUN_DIR / "window.json").write_text(json.dumps(meta) + "\n")
    with (RUN_DIR / "requests.jsonl").open("w") as out:
        for record in Run.records:
            out.write(json.dumps(record) + "\n")


class Member(FastHttpUser):
    """One browser tab of a lab member; several tabs share a member, as people keep several open."""

    wait_time = between(THINK_MIN, THINK_MAX) if THINK_MAX > 0 else constant(0)
    network_timeout = 180.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        Run.spawned += 1
        self.number = Run.spawned
        self.member = PLAN["members"][self.number % len(PLAN["members"])]
        self.rng = random.Random(self.number)
        self.starred: dict[str, bool] = {}
        logged_in = self.share_log_in()
        self.csrf = self.page_token() if logged_in else ""
        started(Run.users)  # logged in or not: the window must not wait for a user who could not
        if not logged_in or not self.csrf:
            Run.stopped += 1
            raise StopUser()

    def share_log_in(self) -> bool:
        """
        The member's first tab logs in; the others share its cookies, as a browser's tabs do. The log-in
        check is slow by design (PBKDF2): one per member, not one per tab, keeps a busy machine's logins
        within the timeout.
        """
        shared = Run.logins.get(self.member)
        if shared is None:
            shared = Run.logins[self.member] = AsyncResult()
            shared.set(list(self.client.cookiejar) if self.log_in() else None)
        cookies = shared.get(timeout=300)
        if cookies is None:
            return False
        for cookie in cookies:  # the first tab's own jar already holds them
            self.client.cookiejar.set_cookie(cookie)
        return True

    def log_in(self) -> bool:
        page = self.client.get("/accounts/login/", name="login_page")
        token = LOGIN_TOKEN.search(page.text or "")
        if token is None:
            return False
        form = {"csrfmiddlewaretoken": token.group(1), "username": self.member, "password": PLAN["password"]}
        response = self.client.post("/accounts/login/", data=form, name="login", allow_redirects=False)
        return response.status_code == 302 and response.headers.get("Location") == "/"

    def page_token(self) -> str:
        """The masked token the page gives htmx (hx-headers on <body>), as a browser would send it."""
        page = self.client.get(f"{BASE}/", name="dashboard")
        found = PAGE_TOKEN.search(page.text or "")
        return found.group(1) if found else ""

    def check_window(self) -> None:
        if Run.closing:
            Run.stopped += 1
            raise StopUser()

    def post(self, path: str, form: dict, kind: str, context: dict):
        headers = {**HTMX, "X-CSRFToken": self.csrf}
        return self.client.post(path, data=form, headers=headers, name=kind, context=context)

    def paper(self) -> str:
        return self.rng.choice(PLAN["papers"])

    # --- The mix (weights: how often a member does each) ---------------------------------------------

    @task(12)
    def browse(self) -> None:
        self.check_window()
        page = self.rng.choice([1, 1, 1, 2, 3, 5, 10])
        self.client.get(f"{BASE}/papers/" + (f"?page={page}" if page > 1 else ""), name="list")

    @task(10)
    def filter(self) -> None:
        self.check_window()
        filters = self.rng.choice(PLAN["filters"])
        headers = HTMX if self.rng.random() < 0.5 else {}
        self.client.get(f"{BASE}/papers/?{filters}", name="list_filter", headers=headers)

    @task(10)
    def search(self) -> None:
        self.check_window()
        query = self.rng.choice(PLAN["queries"]).replace(" ", "+")
        headers = HTMX if self.rng.random() < 0.5 else {}
        self.client.get(f"{BASE}/papers/?q={query}", name="search", headers=headers)

    @task(20)
    def open_paper(self) -> None:
        self.check_window()
        self.client.get(f"{BASE}/papers/{self.paper()}/", name="paper")

    @task(12)
    def star(self) -> None:
        self.check_window()
        forum_id = self.paper()
        # Faults: stars are only ever set, so that every one acknowledged must still be there afterwards.
        on = True if MODE == "faults" else not self.starred.get(forum_id, False)
        context = {"member": self.member, "paper": forum_id, "starred": on}
        response = self.post(f"{BASE}/papers/{forum_id}/star/", {"starred": "1" if on else "0"}, "star", context)
        if response.status_code == 200:
            self.starred[forum_id] = on

    @task(6)
    def note(self) -> None:
        self.check_window()
        forum_id = self.paper()
        body = f"Load note {uuid.uuid4().hex[:12]}: the ablation in section 4 is worth a look."
        form = {"kind": "note", "body": body, "visibility": "lab"}
        self.post(
            f"{BASE}/papers/{forum_id}/notes/", form, "note", {"member": self.member, "paper": forum_id, "body": body}
        )

    @task(10)
    def inbox(self) -> None:
        self.check_window()
        if self.rng.random() < 0.5:
            self.client.get(f"{BASE}/triage/", name="inbox")
        else:
            self.client.get(f"{BASE}/triage/?state=unseen&tier=spotlight", name="inbox", headers=HTMX)

    @task(8)
    def dashboard(self) -> None:
        self.check_window()
        self.client.get(f"{BASE}/", name="dashboard")
