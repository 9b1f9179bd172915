"""Serving benchmark: ``python -m benchmarks.serving --size S|M`` (see BENCHMARKS.md, "Serving").

Latency (p50, p99) and requests per second of ``lakehouse-serve`` for the customer profile and
the daily-sales range, with 1 and 16 concurrent clients, on loopback, plus the server's resident
memory. Bounded: each run stops after ``--requests`` requests or ``--seconds`` seconds, whichever
comes first.

The lakehouse is the harness's landing data of the size (``benchmarks.harness``, cached in the
workdir) built once by ``lakehouse-build`` into ``<workdir>/<size>/serving/lakehouse``, or any
built lakehouse given with ``--lakehouse-root``. The service only reads it, so the build is kept
across code changes (delete the directory to rebuild).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import deltalake
import httpx
import psutil

from benchmarks.harness import DEFAULT_OUT, DEFAULT_WORKDIR, SIZES, START, Harness, parse_args
from benchmarks.report import contention

CLIENTS = (1, 16)
ENDPOINTS = ("customer_profile", "daily_sales_range")
API_KEY = "benchmark-key"


def prepare_lakehouse(size: str, workdir: Path) -> Path:
    """The size's landing data (the harness's cache) built once with ``lakehouse-build``."""
    lakehouse = workdir.resolve() / size / "serving" / "lakehouse"
    marker = lakehouse.parent / "built.json"
    if marker.exists():
        return lakehouse
    with tempfile.TemporaryDirectory() as out:
        harness = Harness(parse_args(["--size", size, "--workdir", str(workdir), "--out", out,
                                      "--repeat", "1", "--scenarios", "full_build"]))
        harness.ensure_landing()  # the history only: the new day stays staged aside
    home = lakehouse.parent / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "LAKEHOUSE_PARTITIONS_START": START}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lakehouse_assets.build", "--landing-root",
         str(harness.landing), "--lakehouse-root", str(lakehouse)],
        env=env, cwd=lakehouse.parent, check=True,
        stdout=open(lakehouse.parent / "build.log", "w"), stderr=subprocess.STDOUT,
    )
    seconds = round(time.perf_counter() - started, 1)
    marker.write_text(json.dumps({"size": size, "build_seconds": seconds}))
    print(f"built the {size} lakehouse in {seconds} s", flush=True)
    return lakehouse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(lakehouse: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "lakehouse-serve"), "--lakehouse-root", str(lakehouse),
         "--port", str(port), "--no-access-log"],
        env={**os.environ, "LAKEHOUSE_API_KEYS": API_KEY},
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"lakehouse-serve exited; see {log_path}")
        try:
            if httpx.get(url + "/health").status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"lakehouse-serve did not answer within 60 s; see {log_path}")


def request_paths(lakehouse: Path, seed: int = 42, n: int = 1000) -> dict[str, list[str]]:
    """Random customers, and random 30-day ranges of the daily sales (a page holds 31 days)."""
    rng = random.Random(seed)
    metrics = deltalake.DeltaTable(str(lakehouse / "gold" / "fct_customer_metrics"))
    ids = metrics.to_pyarrow_table(columns=["customer_id"]).column(0).to_pylist()
    days = deltalake.DeltaTable(str(lakehouse / "gold" / "fct_daily_sales"))
    dates = sorted(days.to_pyarrow_table(columns=["order_date"]).column(0).to_pylist())
    starts = dates[: max(1, len(dates) - 30)]
    ranges = []
    for start in (rng.choice(starts) for _ in range(n)):
        end = start.fromordinal(start.toordinal() + 30)
        ranges.append(f"/api/v1/daily-sales?start={start}&end={end}&limit=31")
    return {
        "customer_profile": [f"/api/v1/customer/{rng.choice(ids)}" for _ in range(n)],
        "daily_sales_range": ranges,
    }


class RssSampler(threading.Thread):
    """Peak resident memory of the server process, sampled every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process, self.peak, self.stopped = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, self.process.memory_info().rss)


def load(url: str, paths: list[str], clients: int, max_requests: int, max_seconds: float) -> dict:
    """Closed loop: ``clients`` threads, each with its own keep-alive connection, send requests
    back to back until ``max_requests`` are done or ``max_seconds`` have passed."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    issued = iter(range(max_requests))
    deadline = time.perf_counter() + max_seconds

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as http:
            for i in issued:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                response = http.get(paths[(offset + i) % len(paths)])
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(n * 7919,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": clients, "requests": len(ms), "seconds": round(wall, 2),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "rps": round(len(ms) / wall, 1), "errors": len(failures), "first_error": failures[:1],
    }


def markdown(report: dict) -> str:
    lines = [
        f"Size {report['size']}, lakehouse `{report['lakehouse']}`; at most "
        f"{report['max_requests']} requests or {report['max_seconds']} s per row; server peak "
        f"RSS **{report['server_peak_rss_mib']} MiB**.",
        "",
        "| endpoint | clients | requests | p50 ms | p99 ms | requests/s | errors | load, JVMs |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["runs"]:
        lines.append(f"| {r['endpoint']} | {r['clients']} | {r['requests']:,} | {r['p50_ms']} | "
                     f"{r['p99_ms']} | {r['rps']:,} | {r['errors']} | {r['load_1m']}, "
                     f"{r['other_jvms']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), help="build (once) and serve this size")
    parser.add_argument("--lakehouse-root", help="serve this built lakehouse instead")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help="default %(default)s")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="the report goes to OUT/<size>/serving.{json,md}")
    parser.add_argument("--requests", type=int, default=5000, help="per row (default 5000)")
    parser.add_argument("--seconds", type=float, default=30, help="per row (default 30)")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)),
                        help="concurrent clients, comma-separated (default %(default)s)")
    args = parser.parse_args(argv)
    if not (args.size or args.lakehouse_root):
        parser.error("give --size or --lakehouse-root")
    label = args.size or "custom"
    lakehouse = (Path(args.lakehouse_root).resolve() if args.lakehouse_root
                 else prepare_lakehouse(args.size, Path(args.workdir)))
    out = Path(args.out).resolve() / label
    out.mkdir(parents=True, exist_ok=True)
    paths = request_paths(lakehouse)
    server, url = start_server(lakehouse, out / "serving-server.log")
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        runs = []
        for endpoint in ENDPOINTS:
            load(url, paths[endpoint], 1, 50, args.seconds)  # warm-up: tables loaded, code hot
            for clients in (int(c) for c in args.clients.split(",")):
                # Other processes on the machine skew latency: recorded beside each row.
                result = {"endpoint": endpoint, **contention(),
                          **load(url, paths[endpoint], clients, args.requests, args.seconds)}
                print(json.dumps(result), flush=True)
                runs.append(result)
    finally:
        sampler.stopped.set()
        server.terminate()
        server.wait(30)
    report = {
        "size": label, "lakehouse": str(lakehouse), "max_requests": args.requests,
        "max_seconds": args.seconds, "cores": os.cpu_count(),
        "server_peak_rss_mib": round(sampler.peak / 2**20), "runs": runs,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / "serving.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "serving.md").write_text(markdown(report))
    print(markdown(report))
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
