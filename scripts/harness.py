"""What the live-server scripts share (bench.py, faults.py, hostile.py, import_timing.py).

A scratch database on a Postgres server, `manage.py` in a subprocess, gunicorn serving the app
with production settings on a loopback port (`Server`), and a small HTTP client that keeps
cookies and can read and submit a form (`Browser`), for the admin.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ARTIFACTS = ROOT / "test-artifacts"


def logger(name):
    """A function printing a message with this script's name and the time, at once."""

    def log(message):
        print(f"[{name} {time.strftime('%H:%M:%S')}] {message}", flush=True)

    return log


def manage(env, *args, show_output=False):
    """Run `manage.py args`; on failure exit with its output. Quiet unless show_output."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=not show_output,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(
            f"manage.py {' '.join(args)} failed:\n{result.stdout or ''}\n{result.stderr or ''}"
        )
    return result.stdout


def report(title, problems, details, lines, name, server_log):
    """Write test-artifacts/NAME.json (the date, the verdict, the problems, then details) and
    print the verdict, lines and problems. Returns the exit status: 1 if a check failed."""
    out = ARTIFACTS / f"{name}.json"
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": not problems,
        "problems": problems,
        **details,
    }
    out.write_text(json.dumps(summary, indent=1))
    print()
    print(title, "FAILED" if problems else "PASSED")
    for line in [*lines, *(f"PROBLEM {problem}" for problem in problems)]:
        print(f"  {line}")
    print(f"  details: {out}; gunicorn log: {server_log}")
    return 1 if problems else 0


# --- databases -----------------------------------------------------------------------------------


def server_url():
    """The URL of DATABASE_URL, or else of the embedded server under .data/ (which this process
    then keeps running until it exits)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    sys.path.insert(0, str(ROOT))
    from tracker.embedded_db import embedded_database_url

    return embedded_database_url(ROOT / ".data")


def with_database(url, name):
    """The same server's URL for another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def create_database(url, *, reset=False):
    """Create the database that url names if it is missing (with reset, drop it first)."""
    name = database_name(url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"Refusing an unusual database name: {name!r}")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        if reset:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def seeded_database(env, superuser):
    """Empty env's database, migrate it, load the seed, collect the static files (production
    serves them from the manifest) and add a superuser. Returns the superuser's password."""
    create_database(env["DATABASE_URL"], reset=True)
    manage(env, "migrate", "--noinput")
    manage(env, "load_seed")
    manage(env, "collectstatic", "--noinput")
    password = secrets.token_urlsafe(24)
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": password},
        "createsuperuser", "--noinput", "--username", superuser, "--email", f"{superuser}@example.org",
    )  # fmt: skip
    return password


# --- serving -------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(env, port):
    """env, with what production settings need to be served over plain HTTP on 127.0.0.1:port."""
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        # The load comes from one address: per-client rate limits would answer it with 429s.
        "RATELIMIT_ENABLED": "0",
    }


class Server:
    """gunicorn serving the app with env on 127.0.0.1:port, ready (/readyz answers 200) once
    built. gunicorn.conf.py applies; workers and timeout, when given, override it. The server
    runs in its own process group, so that stop() ends the master and its workers together."""

    def __init__(self, env, port, log_path, *, workers=None, timeout=None, ready_within=60):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = Path(log_path)
        command = [PYTHON, "-m", "gunicorn", "tracker.wsgi", "--bind", f"127.0.0.1:{port}"]
        if (ROOT / "gunicorn.conf.py").exists():
            command += ["-c", str(ROOT / "gunicorn.conf.py")]
        if workers:
            command += ["--workers", str(workers)]
        if timeout:
            command += ["--timeout", str(timeout)]
        with open(self.log_path, "w") as log_file:  # gunicorn writes to its own copy
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_within
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.2)

    def _ready(self):
        try:
            return get(self.port, "/readyz", timeout=2)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    @property
    def pid(self):
        return self.process.pid

    def workers(self):
        """The process ids of the workers: the master's children."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self):
        if self.process.poll() is not None:
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def memory_kb(pid, field):
    """A memory figure of a process from /proc/PID/status, in kB (VmRSS, VmHWM, …)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- HTTP ----------------------------------------------------------------------------------------


def request(port, method, path, *, body=None, headers=None, address=None, timeout=15.0):
    """One request to 127.0.0.1:port, from a given loopback address if one is named:
    (status, headers, body as text). Redirects are not followed."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(address, 0) if address else None
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def get(port, path, **options):
    return request(port, "GET", path, **options)


class Browser:
    """Just enough of a browser for the admin: cookies, forms, no automatic redirects."""

    def __init__(self, port, address=None, headers=None):
        self.port = port
        self.address = address
        self.headers = headers or {}
        self.cookies = {}

    def request(self, method, path, fields=None):
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Django checks the Origin header of a POST against the host.
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        status, response_headers, content = request(
            self.port, method, path, body=body, headers=headers, address=self.address
        )
        for header in response_headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return status, response_headers, content

    def login(self, username, password):
        """Submit the admin's login form: (status, Location) of the POST."""
        login = "/admin/login/?next=/admin/"
        fields = dict(form_fields(self.request("GET", login)[2], "login-form"))
        fields.update(username=username, password=password, next="/admin/")
        status, headers, _ = self.request("POST", login, fields)
        return status, headers.get("Location", "")


class _FormReader(HTMLParser):
    """The fields of the form with this id, as a browser would submit them untouched."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields = []  # (name, value)
        self.select = None  # name, multiple, [option values], [selected values]
        self.textarea = None  # name, [text]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        name = attrs.get("name")
        if not self.inside:
            return
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            unsent = kind in {"submit", "button", "file", "image", "reset"} or (
                kind in {"checkbox", "radio"} and "checked" not in attrs
            )
            if not unsent:
                self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select = (name, "multiple" in attrs, [], [])
        elif tag == "option" and self.select:
            self.select[2].append(attrs.get("value", ""))
            if "selected" in attrs:
                self.select[3].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = (name, [])

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            name, multiple, options, selected = self.select
            if multiple:
                self.fields += [(name, value) for value in selected]
            elif selected or options:
                self.fields.append((name, (selected or options)[0]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea[0], "".join(self.textarea[1]).lstrip("\n")))
            self.textarea = None


def form_fields(html, form_id):
    """[(name, value)] that the form with this id submits as served."""
    reader = _FormReader(form_id)
    reader.feed(html)
    # The inlines' empty templates are copied by JavaScript, never submitted as such.
    return [(name, value) for name, value in reader.fields if "__prefix__" not in name]
