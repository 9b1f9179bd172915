"""A local Spark Connect server with Delta Lake: one warm JVM for every run.

    lakehouse-spark-server start [--lakehouse-root ./lakehouse] [--port 15002]
    lakehouse-spark-server status
    lakehouse-spark-server stop

Each Dagster run in its own process (the sensors' runs, ``dagster asset materialize``) would
otherwise start a JVM, load Delta and the metastore and warm up the JIT before its first
query. ``start`` launches the installed pyspark's Spark Connect server class with the same
settings as the in-process session (``resources.spark.delta_session_conf``: Delta's SQL
extension and catalog, the cached jars, the lakehouse's metastore) on 127.0.0.1 and records
its address in a state file; while it runs, ``SparkResource`` connects to it instead of
starting a JVM of its own. Nothing is downloaded beyond the jar cache.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

DEFAULT_PORT = 15002
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def state_file() -> str:
    """Where a running server's address and pid are kept (env LAKEHOUSE_SPARK_SERVER_STATE)."""
    return os.environ.get("LAKEHOUSE_SPARK_SERVER_STATE") or os.path.join(
        os.path.expanduser("~"), ".cache", "lakehouse_assets", "spark-server.json"
    )


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running_server() -> dict[str, Any] | None:
    """The recorded server if its process lives and its port answers, else None."""
    try:
        with open(state_file()) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    if _alive(state["pid"]) and _listening(state["port"]):
        return state
    return None


def server_for(catalog_dir: str | None) -> str | None:
    """The URL of the running server started for the lakehouse whose metastore is
    ``catalog_dir`` (a server of another lakehouse holds another catalog: not used)."""
    state = running_server()
    if state is None or catalog_dir is None:
        return None
    from lakehouse_assets.resources.storage import LakehouseStorage

    same = LakehouseStorage(lakehouse_root=state["lakehouse_root"]).catalog_dir == catalog_dir
    return state["url"] if same else None


def start(lakehouse_root: str, port: int = DEFAULT_PORT, timeout_s: float = 180) -> dict:
    """Start the server in the background (or return the running one) and wait until it
    accepts connections."""
    import pyspark

    from lakehouse_assets.resources.spark import delta_session_conf
    from lakehouse_assets.resources.storage import LakehouseStorage

    if (state := running_server()) is not None:
        return state
    if _listening(port):
        raise RuntimeError(f"Port {port} on 127.0.0.1 is taken by another process.")
    storage = LakehouseStorage(lakehouse_root=lakehouse_root)
    conf, _ = delta_session_conf(
        catalog_dir=storage.catalog_dir,
        shuffle_partitions=int(os.environ.get("LAKEHOUSE_SHUFFLE_PARTITIONS", "8")),
        app_name="lakehouse_spark_server",
    )
    conf.update({
        "spark.connect.grpc.binding.address": "127.0.0.1",  # never beyond this machine
        "spark.connect.grpc.binding.port": str(port),
    })
    spark_home = os.path.dirname(pyspark.__file__)
    command = [os.path.join(spark_home, "bin", "spark-submit"), "--class", SERVER_CLASS]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    os.makedirs(os.path.dirname(state_file()), exist_ok=True)
    log_path = state_file().removesuffix(".json") + ".log"
    env = {**os.environ, "SPARK_HOME": spark_home}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,  # outlives the command that started it
        )
    state = {"pid": process.pid, "port": port, "url": f"sc://127.0.0.1:{port}",
             "lakehouse_root": storage.root, "log": log_path}
    deadline = time.monotonic() + timeout_s
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The Spark Connect server did not start; see {log_path}.")
        time.sleep(0.5)
    with open(state_file(), "w") as f:
        json.dump(state, f)
    return state


def stop(timeout_s: float = 60) -> bool:
    """Stop the recorded server; False when none was running."""
    state = running_server()
    if state is None:
        return False
    os.killpg(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    if _alive(state["pid"]):
        os.killpg(state["pid"], signal.SIGKILL)
    os.remove(state_file())
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse-spark-server", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--lakehouse-root", default=os.environ.get("LAKEHOUSE_ROOT", "./lakehouse"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    if args.action == "start":
        state = start(args.lakehouse_root, args.port)
        print(f"Spark Connect server with Delta at {state['url']} (pid {state['pid']}, "
              f"lakehouse {state['lakehouse_root']}, log {state['log']}).")
    elif args.action == "stop":
        print("Stopped." if stop() else "No server was running.")
    else:
        state = running_server()
        print(f"Running at {state['url']} (pid {state['pid']})." if state else "Not running.")
        return 0 if state else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
