"""Load benchmark of the web app: 50 concurrent clients on loopback.

``--workers 1,2`` runs everything once per server process count (``cartwatch serve
--workers N``) and prints them side by side with the ratio; ``--database-url`` serves from
an empty PostgreSQL database instead of SQLite.

Starts ``cartwatch serve`` on a free port with a temporary data dir (SQLite, the default),
seeds one centre with patients in their first post-infusion week and logs every client in
(not measured). Each client is one logged-in session with one keep-alive connection that
mixes

* patient page views (``GET /patients/<id>/``: journey, timeline SVG, all tables), and
* daily assessment saves (``POST /patients/<id>/assessment/new/`` with CSRF: validation,
  ASTCT CRS + ICANS grading, two audited inserts), answered by a redirect.

One run has four phases on the same server and sessions, the journey mix against a
baseline side by side:

1. **Clinical load** (the issue's latency target: p95 < 150 ms, 0 errors). Every client
   waits a think time between requests (exponential by default, mean ``--think-mean``,
   default 1 s). A nurse or physician at a bedside reads a page, examines the patient and
   types before the next request; they do not issue requests back to back. 1 s is a
   deliberately short (pessimistic) think time, not a measured clinical figure: with 50
   clients it offers roughly 50 requests/s, more than a busy ward would send.
2. **Saturation** (a capacity measurement, *not* the latency target). The same clients
   with zero think time: a closed loop of 50 scripts hammering the server. Throughput here
   is the server's capacity; by Little's law latency is then about clients / throughput,
   so its p95 says nothing about what a clinician waits.
3. and 4. **Baseline**: phases 1 and 2 again with every request a ``GET /api/me`` — the
   same server, middleware, session, sign-in and centre scoping, but no patient data: the
   floor that the framework sets. The summary prints the journey mix's latency and
   capacity as ratios of that floor.

Prints per phase requests/s and p50/p95/p99 latency per request type and overall, and
errors. Any error in any phase is a hard failure (exit 1); a missed clinical-load
latency target exits 2. Only the standard library is used for HTTP (``http.client``).
Usage::

    .venv/bin/python benchmarks/web_load.py [--clients 50] [--seconds 30] [--think-mean 1]
        [--think-dist exp|uniform] [--saturation-seconds 15] [--baseline-seconds 10]
        [--save-share 0.2] [--workers 1,2] [--database-url postgresql://…/empty_db]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "correct-horse-battery-42"
TARGET_P95_MS = 150.0

SEED = r"""
import datetime as dt, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
from cartwatch.web import commands
commands.setup(); commands.migrate()
from django.contrib.auth import get_user_model
from django.utils import timezone
from cartwatch.web.access import resolve_actor
from cartwatch.web.services import records
commands.create_user("nurse", PASSWORD, "nurse", "A", create_centre_name="Centre A")
commands.create_user("doc", PASSWORD, "physician", "A")
doc = resolve_actor(get_user_model().objects.get(username="doc"))
today = timezone.localdate()
for i in range(N):
    p = records.create_patient(doc, {"patient_id": f"A-{i:03d}", "age_years": 60 + i % 20,
        "sex": "F", "diagnosis": "CLL", "consent_research": True})
    inf = today - dt.timedelta(days=i % 7)
    records.create_record(doc, records.KINDS["cell-therapy"], p, {"product": "liso-cel",
        "apheresis_date": (inf - dt.timedelta(days=30)).isoformat(),
        "infusion_date": inf.isoformat()})
    for d in range(i % 7):
        at = dt.datetime.combine(inf + dt.timedelta(days=d), dt.time(8)).isoformat()
        records.create_record(doc, records.KINDS["crs"], p,
            {"observed_at": at, "temperature_c": 37.5 + d % 3})
        records.create_record(doc, records.KINDS["icans"], p,
            {"observed_at": at, "age_years": 65, "ice_score": 10})
        records.create_record(doc, records.KINDS["labs"], p,
            {"observed_at": at, "neutrophils_10e9_l": 1.0, "platelets_10e9_l": 90})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cartwatch_exe() -> str:
    exe = Path(sys.executable).with_name("cartwatch")
    return str(exe) if exe.exists() else "cartwatch"


class Client:
    """One browser-like client: a keep-alive connection, a session cookie and CSRF token."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.conn.port}{path}"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def login(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
            },
        )
        if status != 302:
            raise RuntimeError(f"login failed for {username}: HTTP {status}")
        self.request("GET", "/worklist/")  # picks up the rotated CSRF cookie


@dataclass
class Results:
    latencies_ms: dict[str, list[float]] = field(
        default_factory=lambda: {"view": [], "save": [], "floor": []}
    )
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    elapsed: float = 0.0


def assessment_form(csrf: str, rng: random.Random) -> dict[str, str]:
    form = {
        "csrfmiddlewaretoken": csrf,
        "observed_at": time.strftime("%Y-%m-%dT%H:%M", time.gmtime()),
        "crs.temperature_c": f"{rng.uniform(36.5, 40.0):.1f}",
        "icans.assessed": "true",
        "icans.age_years": "65",
        "icans.ice_score": str(rng.choice((10, 10, 9, 7))),
    }
    if rng.random() < 0.3:
        form["crs.hypotension"] = "true"
    if rng.random() < 0.1:
        form["crs.vasopressors"] = "norepinephrine"
    return form


def think(rng: random.Random, mean: float, dist: str) -> float:
    """One think time in seconds (0 when ``mean`` is 0: the saturation phase)."""
    if mean <= 0:
        return 0.0
    return rng.expovariate(1 / mean) if dist == "exp" else rng.uniform(0, 2 * mean)


def run_client(
    client: Client,
    patients: list[str],
    stop: float,
    share: float,
    seed: int,
    think_mean: float,
    think_dist: str,
    out: Results,
    floor: bool = False,
) -> None:
    rng = random.Random(seed)
    while True:
        pause = think(rng, think_mean, think_dist)  # also staggers the first requests
        if time.monotonic() + pause >= stop:
            break
        if pause:
            time.sleep(pause)
        pid = rng.choice(patients)
        kind = "floor" if floor else "save" if rng.random() < share else "view"
        path = {
            "floor": "/api/me",
            "save": f"/patients/{pid}/assessment/new/",
            "view": f"/patients/{pid}/",
        }[kind]
        started = time.perf_counter()
        try:
            if kind == "save":
                status, _ = client.request(
                    "POST", path, assessment_form(client.cookies["csrftoken"], rng)
                )
                ok = status == 302
            else:
                status, body = client.request("GET", path)
                expected = b'"role": "nurse"' if floor else b"Timeline after infusion"
                ok = status == 200 and expected in body.replace(b'"role":"', b'"role": "')
        except (OSError, http.client.HTTPException) as exc:
            status, ok = -1, False
            client.conn.close()
            with out.lock:
                out.errors.append(f"{path}: {exc!r}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        with out.lock:
            out.latencies_ms[kind].append(elapsed)
            if not ok:
                out.errors.append(f"{path}: HTTP {status}")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="clinical-load phase duration")
    parser.add_argument(
        "--think-mean", type=float, default=1.0, help="mean think time (s), clinical load"
    )
    parser.add_argument("--think-dist", choices=("exp", "uniform"), default="exp")
    parser.add_argument("--saturation-seconds", type=float, default=15.0)
    parser.add_argument(
        "--baseline-seconds", type=float, default=10.0, help="each baseline phase (0: skip)"
    )
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--save-share", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=8, help="server threads per process")
    parser.add_argument(
        "--workers",
        default="1",
        help="server process counts to run one after the other and compare side by side "
        "(cartwatch serve --workers), e.g. 1,2",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="an EMPTY PostgreSQL database to seed and serve from (default: SQLite in a "
        "temporary folder)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in str(args.workers).split(",")]

    with tempfile.TemporaryDirectory(prefix="cartwatch-load-") as tmp:
        env = {**os.environ, "CARTWATCH_DATA_DIR": tmp, "CARTWATCH_TIME_ZONE": "UTC"}
        env.pop("DATABASE_URL", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        args.database = "SQLite"
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
            args.database = "PostgreSQL"
        print(f"seeding {args.patients} patients ({args.database}) …", flush=True)
        seed = f"PASSWORD = {PASSWORD!r}\nN = {args.patients}\n" + SEED
        subprocess.run([sys.executable, "-c", seed], env=env, check=True)
        outcomes = {n: serve_and_run(args, env, Path(tmp), n) for n in counts}
    if len(counts) > 1:
        side_by_side(outcomes)
    return max(code for code, _ in outcomes.values())


def serve_and_run(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, workers: int
) -> tuple[int, dict[str, tuple[float, float, float]]]:
    """All phases against ``cartwatch serve --workers <workers>``; (exit code, figures)."""
    args.processes = workers
    port = free_port()
    log = open(tmp / f"server-{workers}.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [cartwatch_exe(), "serve", "--port", str(port), "--threads", str(args.threads),
         "--workers", str(workers), "--no-migrate"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        return run(args, port)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        errors = (tmp / f"server-{workers}.log").read_text(encoding="utf-8")
        if "Traceback" in errors:
            print("server log has tracebacks:\n" + errors[-3000:])


def side_by_side(outcomes: dict[int, tuple[int, dict[str, tuple[float, float, float]]]]) -> None:
    """Requests/s and p95 of every phase per process count, and the ratio to the first."""
    counts = list(outcomes)
    first = outcomes[counts[0]][1]
    print(f"\n=== server processes side by side ({', '.join(map(str, counts))}) ===")
    header = "".join(f"{f'{n} proc req/s':>15}{'p95 ms':>9}" for n in counts)
    print(f"{'':26}{header}{'ratio req/s':>13}")
    for name in first:
        cells = "".join(f"{outcomes[n][1][name][0]:15.1f}{outcomes[n][1][name][2]:9.1f}"
                        for n in counts)  # fmt: skip
        ratio = outcomes[counts[-1]][1][name][0] / first[name][0]
        print(f"{name:26}{cells}{ratio:12.2f}×")


def run(args: argparse.Namespace, port: int) -> tuple[int, dict[str, tuple[float, float, float]]]:
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = Client(port).request("GET", "/accounts/login/")
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.3)
    clients = [Client(port) for _ in range(args.clients)]
    print(f"logging in {len(clients)} clients …", flush=True)
    for c in clients:
        c.login("nurse")
    patients = [f"A-{i:03d}" for i in range(args.patients)]
    dist = "exponential" if args.think_dist == "exp" else "uniform"
    load = f"{args.clients} clients, think time {dist} mean {args.think_mean:g} s"
    closed = f"{args.clients} clients, zero think time"
    journey = "patient page views and assessment saves"
    clinical = phase(
        f"PHASE 1 — clinical load: {load}, {journey} (the p95 < {TARGET_P95_MS:.0f} ms "
        "target applies)",
        clients, patients, args, args.seconds, args.think_mean,
    )  # fmt: skip
    p95 = pct(every(clinical), 95)
    met = p95 < TARGET_P95_MS and not clinical.errors
    print(f"target: p95 < {TARGET_P95_MS:.0f} ms and 0 errors → {'MET' if met else 'NOT MET'}"
          f" (p95 {p95:.1f} ms)")  # fmt: skip
    saturation = phase(
        f"PHASE 2 — saturation: {closed}, {journey} (capacity measurement; latency here is "
        "queueing, NOT the target)",
        clients, patients, args, args.saturation_seconds, 0.0,
    )  # fmt: skip
    runs = [("journey, clinical load", clinical), ("journey, saturation", saturation)]
    if args.baseline_seconds > 0:
        floor = "GET /api/me only (baseline: same stack and sign-in, no patient data)"
        runs += [
            ("baseline, clinical load", phase(f"PHASE 3 — {load}, {floor}", clients, patients,
                                              args, args.baseline_seconds, args.think_mean,
                                              floor=True)),
            ("baseline, saturation", phase(f"PHASE 4 — {closed}, {floor}", clients, patients,
                                           args, args.baseline_seconds, 0.0, floor=True)),
        ]  # fmt: skip
    figures = summary(runs, args)
    errors = sum(len(r.errors) for _, r in runs)
    print(f"\nerrors over all phases: {errors} (hard check: must be 0)")
    if errors:
        return 1, figures
    return (0 if met else 2), figures


def every(result: Results) -> list[float]:
    return [ms for values in result.latencies_ms.values() for ms in values]


def summary(
    runs: list[tuple[str, Results]], args: argparse.Namespace
) -> dict[str, tuple[float, float, float]]:
    """Prints the phases' figures; returns name → (requests/s, p50 ms, p95 ms)."""
    print(f"\n=== summary ({args.database}, {args.processes} server process(es)) ===")
    print(f"{'':26}{'requests/s':>11}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    figures = {}
    for name, result in runs:
        values = every(result)
        rate = len(values) / result.elapsed if result.elapsed else float("nan")
        figures[name] = (rate, pct(values, 50), pct(values, 95))
        print(f"{name:26}{rate:11.1f}{figures[name][1]:9.1f}{figures[name][2]:9.1f}"
              f"{len(result.errors):8d}")  # fmt: skip
    if "baseline, saturation" in figures:
        journey, floor = figures["journey, clinical load"], figures["baseline, clinical load"]
        print(f"ratio journey/baseline, clinical load: p50 {journey[1] / floor[1]:.2f}×, "
              f"p95 {journey[2] / floor[2]:.2f}×")  # fmt: skip
        capacity = figures["journey, saturation"][0] / figures["baseline, saturation"][0]
        print(f"ratio journey/baseline, capacity (requests/s at saturation): {capacity:.2f}×")
    return figures


def phase(
    title: str,
    clients: list[Client],
    patients: list[str],
    args: argparse.Namespace,
    seconds: float,
    think_mean: float,
    floor: bool = False,
) -> Results:
    print(f"\n=== {title}, {seconds:g} s ===", flush=True)
    out = Results()
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(c, patients, stop, args.save_share, i, think_mean, args.think_dist, out, floor),
            daemon=True,
        )
        for i, c in enumerate(clients)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.elapsed = time.monotonic() - started

    n = len(every(out))
    lat = out.latencies_ms
    print(f"{out.elapsed:.1f} s, {args.processes} server process(es) × {args.threads} threads, "
          f"{args.database}")  # fmt: skip
    print(f"requests: {n}  ({len(lat['view'])} page views, {len(lat['save'])} assessment "
          f"saves, {len(lat['floor'])} baseline requests)")  # fmt: skip
    print(f"throughput: {n / out.elapsed:.1f} requests/s")
    for label, values in (("all", every(out)), *lat.items()):
        if values:
            p50, p95, p99 = (pct(values, p) for p in (50, 95, 99))
            mean = statistics.fmean(values)
            print(f"latency {label:>5}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
                  f"  mean {mean:6.1f} ms")  # fmt: skip
    print(f"errors: {len(out.errors)}")
    for line in sorted(set(out.errors))[:10]:
        print("  " + line)
    return out


if __name__ == "__main__":
    sys.exit(main())
