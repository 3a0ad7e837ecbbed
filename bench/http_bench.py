"""``http``: requests per second and latency of two cheap pages, kehu against bare Django.

kehu and a bare Django app (bench.bare_settings: no middleware, one view returning the very
bytes kehu served) each run under gunicorn with 2 sync workers; 8 concurrent clients hit
GET /accounts/login/ and GET /api/v1/health. The headline is kehu/bare requests per second:
what kehu's middleware, templates and API layer cost over Django itself.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_DIR,
    bench_database,
    log,
    ms,
    percentile,
    result_skeleton,
    wait_quiet,
    write_result,
)

NAME = "http"
LOGIN, HEALTH = "/accounts/login/", "/api/v1/health"
URLS_BY_DB = {"sqlite": [LOGIN, HEALTH], "postgres": [HEALTH]}
WORKERS = 2
CONCURRENCY = 8
WRK_THREADS = 1  # one C thread drives 8 connections easily and leaves the cores to gunicorn
LUA_REPORT = Path(__file__).resolve().parent / "wrk_report.lua"


# --- gunicorn -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """``python -m gunicorn APP -w 2`` (sync workers) on a free local port."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path, ready_path: str) -> None:
        self.app, self.env, self.log_path, self.ready_path = app, env, log_path, ready_path
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command, env=self.env, cwd=REPO_DIR, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited: {self.log_tail()}")
            try:
                if _get(self.port, self.ready_path)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn {self.app} did not answer: {self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        lines = self.log_tail(200_000).splitlines()
        return [ln for ln in lines if re.search(r"ERROR|CRITICAL|Traceback|WORKER TIMEOUT", ln)][
            :20
        ]


def _get(port: int, path: str) -> tuple[int, Any, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def capture(port: int, url: str) -> dict[str, Any]:
    status, headers, body = _get(port, url)
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}, not 200: {body[:300]!r}")
    return {
        "status": status,
        "content_type": headers.get("Content-Type"),
        "bytes": len(body),
        "header_count": len(headers),
        "header_names": sorted(headers.keys()),
        "body_b64": base64.b64encode(body).decode("ascii"),
    }


# --- load generators ------------------------------------------------------------------------


def wrk_available() -> str | None:
    path = shutil.which("wrk")
    if not path:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split("Copyright")[0].strip() if first else "wrk"


def run_wrk(url: str, seconds: float) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{CONCURRENCY}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_REPORT),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    lat = data["latency_us"]
    text_rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    seconds_run = data["duration_us"] / 1e6
    return {
        "requests": data["requests"],
        "seconds": round(seconds_run, 3),
        "requests_per_second": round(data["requests"] / seconds_run, 1),
        "latency_ms": {
            key: round(lat[key] / 1000, 3) for key in ("p50", "p90", "p95", "p99", "mean", "max")
        },
        "errors": data["errors"],
        "wrk_text_requests_per_second": float(text_rps.group(1)) if text_rps else None,
    }


def run_python_client(url: str, seconds: float) -> dict[str, Any]:
    """8 threads, each with one http.client connection kept alive while the server allows
    (gunicorn's sync workers close after every response, so each then reconnects)."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    latencies: list[list[float]] = [[] for _ in range(CONCURRENCY)]
    errors = {"connect": 0, "read": 0, "status": 0}
    lock = threading.Lock()
    start_gate = threading.Barrier(CONCURRENCY + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        conn: HTTPConnection | None = None
        mine = latencies[i]
        start_gate.wait()
        while time.perf_counter() < stop_at[0]:
            try:
                if conn is None:
                    conn = HTTPConnection(host, int(port), timeout=10)
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                resp = conn.getresponse()
                resp.read()
                mine.append(time.perf_counter() - t0)
                if resp.status >= 400:
                    with lock:
                        errors["status"] += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except OSError:
                with lock:
                    errors["read"] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENCY)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    everything = sorted(x for per in latencies for x in per)
    return {
        "requests": len(everything),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(everything) / elapsed, 1),
        "latency_ms": {
            "p50": ms(percentile(everything, 50)),
            "p90": ms(percentile(everything, 90)),
            "p95": ms(percentile(everything, 95)),
            "p99": ms(percentile(everything, 99)),
            "mean": ms(sum(everything) / len(everything)) if everything else None,
            "max": ms(everything[-1]) if everything else None,
        },
        "errors": errors,
    }


def load(client: str, url: str, warmup: float, duration: float) -> dict[str, Any]:
    runner = run_wrk if client == "wrk" else run_python_client
    machine_load = wait_quiet()
    if warmup > 0:
        runner(url, warmup)
    figure = runner(url, duration)
    figure["machine_load_before"] = machine_load
    figure["failed_requests"] = sum(figure["errors"].values())
    if figure["failed_requests"]:
        log(f"http: {url}: {figure['errors']} (non-2xx/3xx or socket errors)")
    return figure


# --- the benchmark --------------------------------------------------------------------------


def _bare_env(responses_file: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KEHU_VAR_DIR", "DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.bare_settings",
        BENCH_BARE_RESPONSES=str(responses_file),
        PYTHONPATH=str(REPO_DIR),
    )
    return env


def _strip(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "body_b64"}


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    wrk = wrk_available() if opts.client in ("auto", "wrk") else None
    if opts.client == "wrk" and not wrk:
        raise RuntimeError("--client wrk asked for, but wrk is not installed (apt-get install wrk)")
    client = "wrk" if wrk else "python"
    client_desc = (
        f"{wrk}: wrk -t{WRK_THREADS} -c{CONCURRENCY} --timeout 10s --latency "
        "-s bench/wrk_report.lua (done() hook only, no per-request Lua)"
        if wrk
        else f"python http.client, {CONCURRENCY} threads, keep-alive when the server allows"
    )
    result = result_skeleton(
        NAME,
        {
            "server": f"gunicorn, {WORKERS} sync workers, DEBUG off, KEHU_ENV=development",
            "concurrency": CONCURRENCY,
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "load_generator": client,
            "load_generator_detail": client_desc,
            "urls_by_database": {db: URLS_BY_DB[db] for db in dbs},
            "pairing": "each kehu measurement is followed at once by the bare one for the "
            "same URL (both servers up, the idle one costs nothing), so drifting background "
            "load hits both sides of a ratio alike",
        },
    )
    result["skipped"] = skipped
    bare_dir = Path(tempfile.mkdtemp(prefix="kehu-bench-http-bare-"))
    bare: Gunicorn | None = None
    bare_info: dict[str, Any] = {"urls": {}}
    captured: dict[str, dict[str, Any]] = {}
    headline: dict[str, Any] = {}
    try:
        for kind in dbs:
            with bench_database(NAME, kind) as db:
                migrate_s = db.reset()
                run: dict[str, Any] = {
                    "database": db.info(),
                    "dataset": {**db.query_counts(), "note": "freshly migrated, no demo data"},
                    "migrate_seconds": round(migrate_s, 2),
                    "urls": {},
                }
                log_path = db.var_dir / "gunicorn.log"
                with Gunicorn("kehu.wsgi:application", db.env(), log_path, HEALTH) as server:
                    run["command"] = " ".join(server.command[1:])
                    responses = {url: capture(server.port, url) for url in (LOGIN, HEALTH)}
                    if bare is None:
                        captured = responses
                        (bare_dir / "responses.json").write_text(json.dumps(captured))
                        bare = Gunicorn(
                            "bench.bare_wsgi:application",
                            _bare_env(bare_dir / "responses.json"),
                            bare_dir / "gunicorn.log",
                            HEALTH,
                        ).__enter__()
                        bare_info["command"] = " ".join(bare.command[1:])
                        for url in captured:
                            got = capture(bare.port, url)
                            bare_info["urls"][url] = {
                                "same_body_and_content_type_as_kehu": (
                                    got["body_b64"] == captured[url]["body_b64"]
                                    and got["content_type"] == captured[url]["content_type"]
                                ),
                                "response": _strip(got),
                            }
                    for url in URLS_BY_DB[kind]:
                        log(f"http: kehu {kind} GET {url} ({opts.duration}s, {client})")
                        kehu = load(client, server.base + url, opts.warmup, opts.duration)
                        log(f"http: bare GET {url} ({opts.duration}s, {client})")
                        base = load(client, bare.base + url, opts.warmup, opts.duration)
                        ratio = round(kehu["requests_per_second"] / base["requests_per_second"], 3)
                        p50 = base["latency_ms"]["p50"]
                        run["urls"][url] = {
                            "kehu": kehu,
                            "bare": base,
                            "ratio": {
                                "requests_per_second_kehu_over_bare": ratio,
                                "p50_latency_kehu_over_bare": round(
                                    kehu["latency_ms"]["p50"] / p50, 3
                                )
                                if p50
                                else None,
                            },
                            "response": _strip(responses[url]),
                            # The login page's CSRF token is random per response, so
                            # compare sizes; the health body is compared byte for byte.
                            "bare_body_same_size": responses[url]["bytes"]
                            == captured[url]["bytes"],
                            "bare_body_identical": responses[url]["body_b64"]
                            == captured[url]["body_b64"],
                        }
                        headline[f"{kind} GET {url}"] = {
                            "kehu_rps": kehu["requests_per_second"],
                            "bare_rps": base["requests_per_second"],
                            "rps_ratio_kehu_over_bare": ratio,
                            "kehu_p50_p95_p99_ms": [
                                kehu["latency_ms"][p] for p in ("p50", "p95", "p99")
                            ],
                            "bare_p50_p95_p99_ms": [
                                base["latency_ms"][p] for p in ("p50", "p95", "p99")
                            ],
                            "failed_requests_kehu_bare": [
                                kehu["failed_requests"],
                                base["failed_requests"],
                            ],
                        }
                    run["server_log_problems"] = server.log_problems()
                result["runs"][kind] = run
        if bare is not None:
            bare_info["server_log_problems"] = bare.log_problems()
    finally:
        if bare is not None:
            bare.__exit__(None, None, None)
        shutil.rmtree(bare_dir, ignore_errors=True)
    result["bare_django"] = bare_info
    result["headline"] = headline
    write_result(NAME, result)
    return result
