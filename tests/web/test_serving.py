"""``cartwatch serve`` as deployed: several processes, behind a TLS-terminating proxy.

A real server is started in a subprocess (``--workers 2``, ``CARTWATCH_PRODUCTION=1``,
``--trusted-proxy 127.0.0.1``), once with each process's own cache and once with the
machine's Redis as the shared cache (skipped when Redis is not running), on the database the
test run uses: PostgreSQL when
``DATABASE_URL`` is set (a scratch database created and dropped here), else SQLite in a
temporary folder. The test client plays the proxy: it sends ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.processes import PASSWORD, cartwatch, cartwatch_argv, install_env, scratch_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """Requests as the TLS proxy forwards them, on keep-alive connections (each stays with
    the server process that accepted it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None,
        forwarded: bool = True,
    ) -> tuple[http.client.HTTPResponse, str]:
        own = conn is None
        conn = conn or self.connect()
        sent = dict(headers or {})
        if forwarded:
            sent.update({"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if own:
            conn.close()
        return response, text


REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(REDIS, timeout=1):
        return True
    return False


@pytest.fixture(scope="module", params=["per-process cache", "shared Redis cache"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Proxy, dict[str, str], int]]:
    shared = request.param == "shared Redis cache"
    if shared and not _redis_up():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]} (the machine starts it)")
    folder: Path = tmp_path_factory.mktemp("serve")
    port = _free_port()
    with scratch_database("serve") as database:
        env = install_env(
            folder, database, CARTWATCH_PRODUCTION="1", CARTWATCH_ALLOWED_HOSTS="127.0.0.1"
        )
        if shared:
            env["CARTWATCH_CACHE_URL"] = f"redis://{REDIS[0]}:{REDIS[1]}/0"
            env["CARTWATCH_CACHE_PREFIX"] = f"cartwatch-test-{os.getpid()}-{port}"
        user = ["doc", "--role", "physician", "--centre", "A", "--create-centre", "Centre A"]
        cartwatch("createuser", *user, "--password-stdin", env=env, stdin=PASSWORD)
        token = cartwatch("createtoken", "doc", env=env).strip()
        log = (folder / "serve.log").open("w")
        process = subprocess.Popen(
            cartwatch_argv("serve", "--port", str(port), "--workers", "2", "--threads", "4",
                           "--trusted-proxy", "127.0.0.1", "--no-migrate"),
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                assert process.poll() is None, (folder / "serve.log").read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
            yield Proxy(port), {"Authorization": f"Bearer {token}"}, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_without_the_proxy_header_production_redirects_to_https(server: Any) -> None:
    proxy, _, _ = server
    response, _ = Proxy(proxy.port).request("GET", "/accounts/login/", forwarded=False)
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")


def test_login_behind_the_proxy_with_hsts_and_secure_cookies(server: Any) -> None:
    proxy, _, _ = server
    browser = Proxy(proxy.port)
    response, _ = browser.request("GET", "/accounts/login/")
    assert response.status == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert all("Secure" in c for c in response.headers.get_all("Set-Cookie") or [])
    response = _login(browser)
    session = [
        c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("sessionid=")
    ]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
    response, _ = browser.request("GET", "/worklist/")
    assert response.status == 200


def test_two_processes_serve_and_no_page_goes_stale(server: Any) -> None:
    """Keep-alive connections land on both processes; after an edit through any of them,
    every connection's patient page shows the new value (no process serves a stale page)."""
    proxy, auth, pid = server
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 2
    api = {**auth, "Content-Type": "application/json"}
    row = ('{"data": {"patient_id": "A-001", "age_years": 60, "sex": "F", "diagnosis": "CLL", '
           '"consent_research": true}}')  # fmt: skip
    response, text = proxy.request("POST", "/api/patients", body=row, headers=api)
    assert response.status == 201, text
    note = '{"data": {"event_date": "2025-08-01", "event": "last_contact", "detail": "first"}}'
    response, text = proxy.request("POST", "/api/patients/A-001/followup", body=note, headers=api)
    assert response.status == 201, text
    followup = __import__("json").loads(text)
    browser = Proxy(proxy.port)
    browser.cookies = dict(proxy.cookies)
    _login(browser)
    connections = [browser.connect() for _ in range(8)]
    for conn in connections:  # warm every process's cache
        response, page = browser.request("GET", "/patients/A-001/", conn=conn)
        assert response.status == 200 and "first" in page
    edit = ('{"data": {"event_date": "2025-08-01", "event": "last_contact", "detail": "second"}, '
            f'"version": {followup["version"]}, "reason": "typo"}}')  # fmt: skip
    response, text = proxy.request(
        "PUT", f"/api/patients/A-001/followup/{followup['id']}", body=edit, headers=api
    )
    assert response.status == 200, text
    for conn in connections:
        response, page = browser.request("GET", "/patients/A-001/", conn=conn)
        assert "second" in page and ">first<" not in page
        conn.close()


def _login(browser: Proxy) -> http.client.HTTPResponse:
    _, page = browser.request("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    origin = f"https://127.0.0.1:{browser.port}"
    response, _ = browser.request(
        "POST", "/accounts/login/",
        body=f"csrfmiddlewaretoken={token.group(1)}&username=doc&password={PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
                 "Referer": origin + "/accounts/login/"},
    )  # fmt: skip
    assert response.status == 302, response.headers
    return response
