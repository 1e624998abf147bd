"""``cartwatch serve``: waitress, one process or several, optionally behind a TLS proxy.

**Behind a reverse proxy** (nginx, Caddy, a hospital load balancer) that terminates TLS, the
app sees plain HTTP from the proxy. ``trusted_proxy`` (``--trusted-proxy`` or
``CARTWATCH_TRUSTED_PROXY``: the proxy's address, e.g. ``127.0.0.1``) makes waitress believe
``X-Forwarded-Proto`` and ``X-Forwarded-For`` from that address only (and drop them from
anyone else), so Django sees the original scheme (no redirect loop under
``CARTWATCH_PRODUCTION=1``; cookies stay ``Secure``) and the client's address (login lockout
and the audit log name the client, not the proxy). Without it, waitress strips those headers
and every HTTPS request looks like HTTP: production redirects it forever.

**Several processes** (``--workers N``): the parent binds the socket once and forks N
children that each run waitress on it (the kernel hands each connection to one of them).
Every cache the pages use is keyed by the state of the database (the patient page by its
records' fingerprint, the dashboard by the newest audit event), so a process never serves
what another process's write made stale; with ``CARTWATCH_CACHE_URL`` (Redis) the processes
also share the cached pages. A child that dies is replaced; SIGTERM/SIGINT stop them all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

#: The proxy headers waitress believes from the trusted proxy.
TRUSTED_PROXY_HEADERS = frozenset({"x-forwarded-proto", "x-forwarded-for"})


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    workers: int = 1
    trusted_proxy: str | None = None

    def waitress_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"threads": self.threads, "ident": "cartwatch"}
        if self.trusted_proxy:
            kwargs.update(
                trusted_proxy=self.trusted_proxy,
                trusted_proxy_count=1,
                trusted_proxy_headers=set(TRUSTED_PROXY_HEADERS),
                clear_untrusted_proxy_headers=True,
            )
        return kwargs


def wsgi_app() -> Any:
    """The app with static files served (the Swagger UI's assets) for the built-in server."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    return StaticFilesHandler(get_wsgi_application())


def serve(options: ServeOptions) -> None:
    import waitress

    if options.workers <= 1:
        kwargs = options.waitress_kwargs()
        waitress.serve(wsgi_app(), host=options.host, port=options.port, **kwargs)
        return
    listener = socket.create_server((options.host, options.port), backlog=1024, reuse_port=False)
    _supervise(listener, options)


def _run_child(listener: socket.socket, options: ServeOptions) -> None:
    import waitress

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        waitress.serve(wsgi_app(), sockets=[listener], **options.waitress_kwargs())
    finally:
        os._exit(0)


def _spawn(listener: socket.socket, options: ServeOptions) -> int:
    from django.db import connections

    connections.close_all()  # never share a database connection across a fork
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (the serving tests exercise it)
        _run_child(listener, options)
    return pid


def _supervise(listener: socket.socket, options: ServeOptions) -> None:
    children = {_spawn(listener, options) for _ in range(options.workers)}
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            print(
                f"cartwatch: worker {pid} exited ({os.waitstatus_to_exitcode(status)}); "
                "starting another",
                file=sys.stderr,
            )
            children.add(_spawn(listener, options))
    listener.close()
