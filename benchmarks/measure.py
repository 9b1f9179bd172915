"""Run one child process and measure it from the outside.

Wall time is the child's whole life (interpreter start, imports, JVM start, work, exit), as a
real run of the same command would take. Memory is sampled every ``interval`` seconds over the
child and all its descendants (the PySpark driver JVM is a grandchild: Python -> spark-submit
-> java): the peak of the summed resident set sizes. Every distinct ``java`` process seen is
recorded; Spark driver JVMs (``org.apache.spark.deploy.SparkSubmit``) are the "JVM starts".
Spark's launcher (``org.apache.spark.launcher.Main``, a JVM that only prints the command line
of the real one and lives a fraction of a second) is counted apart and not as a start.

The driver JVM's CPU time is read from ``/proc`` once a second, in total and per thread, and
split by what the threads do (``JVM_THREAD_KINDS``): on a small machine the JIT compiler's share
shows how much of a run is the JVM warming up rather than Spark working.
"""

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import psutil

SPARK_DRIVER_CLASS = "org.apache.spark.deploy.SparkSubmit"
SPARK_LAUNCHER_CLASS = "org.apache.spark.launcher.Main"
# Linux thread names (/proc/<pid>/task/<tid>/comm, cut to 15 characters) of HotSpot's and
# Spark's threads; everything else (the driver's py4j and scheduler threads, Delta, the VM) is
# "driver_and_other".
JVM_THREAD_KINDS = {
    "jit_compiler": ("C1 CompilerThre", "C2 CompilerThre"),
    "garbage_collector": ("GC Thread", "G1 "),
    # "Executor task launch worker", renamed "Executor task idle worker" between tasks
    "spark_tasks": ("Executor task ",),
}
CPU_READ_INTERVAL_S = 1.0  # ~120 threads: reading them 10 times a second would cost a core


def jvm_thread_kind(name: str) -> str:
    for kind, prefixes in JVM_THREAD_KINDS.items():
        if name.startswith(prefixes):
            return kind
    return "driver_and_other"


@dataclass
class Measurement:
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    samples: int
    jvm_starts: int  # Spark driver JVMs
    other_java: int  # any other java processes (Spark's launcher, `java -version`, ...)
    exit_lag_s: float = 0.0  # descendants (the JVM) still alive after the child exited
    peak_by_kind: dict = field(default_factory=dict)  # MiB per process kind at the peak
    jvm_cpu_s: dict = field(default_factory=dict)  # driver JVM CPU seconds: total and per kind
    inner: dict = field(default_factory=dict)  # what the child reported about itself
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.inner.get("error")

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "returncode": self.returncode,
            "wall_s": round(self.wall_s, 3),
            "peak_rss_mib": round(self.peak_rss_bytes / 2**20, 1),
            "peak_rss_by_kind_mib": self.peak_by_kind,
            "jvm_cpu_s": self.jvm_cpu_s,
            "samples": self.samples,
            "jvm_starts": self.jvm_starts,
            "other_java_processes": self.other_java,
            "exit_lag_s": round(self.exit_lag_s, 3),
            "inner": self.inner,
            "log": self.log,
        }


def _stat(path: str) -> tuple[float, float]:
    """(start time in clock ticks since boot, CPU seconds used) of a /proc stat file."""
    with open(path, "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()  # fields from the 3rd on, after the name
    # Fields 14 and 15 are utime and stime, field 22 starttime.
    return float(fields[19]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_threads(pid: int, started: float | None = None):
    """(the process's CPU seconds, {(tid, thread start): (kind, CPU seconds)} of its threads of
    a ``JVM_THREAD_KINDS`` kind), or None when the process is gone (or its pid reused: its
    start time is not ``started``)."""
    try:
        process_start, cpu = _stat(f"/proc/{pid}/stat")
        if started is not None and process_start != started:
            return None
        tids = os.listdir(f"/proc/{pid}/task")
    except (OSError, IndexError, ValueError):
        return None
    threads = {}
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                kind = jvm_thread_kind(f.read().strip())
            if kind not in JVM_THREAD_KINDS:
                continue
            thread_start, thread_cpu = _stat(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, IndexError, ValueError):
            continue  # the thread ended meanwhile
        threads[(tid, thread_start)] = (kind, thread_cpu)
    return cpu, threads


def _cpu_by_kind(total: float, threads) -> dict[str, float]:
    """``total`` and its split per thread kind; ``driver_and_other`` is the rest."""
    by_kind = dict.fromkeys(JVM_THREAD_KINDS, 0.0)
    for kind, cpu in threads:
        by_kind[kind] += cpu
    by_kind["driver_and_other"] = max(0.0, total - sum(by_kind.values()))
    return {k: round(v, 1) for k, v in {"total": total, **by_kind}.items()}


class JvmCpuSpan:
    """CPU seconds a long-lived JVM (the warm Spark Connect server) spends between ``start``
    and ``stop``, split by thread kind as a child's driver JVM is: its threads' CPU at stop
    minus at start (a thread started in between counts from zero)."""

    def __init__(self, pid: int):
        self.pid = pid
        self._before = None

    def start(self) -> None:
        self._before = _read_threads(self.pid)

    def stop(self) -> dict[str, float]:
        after = _read_threads(self.pid)
        if self._before is None or after is None:
            return {}
        (cpu0, threads0), (cpu1, threads1) = self._before, after
        spent = [
            (kind, cpu - threads0.get(thread, (kind, 0.0))[1])
            for thread, (kind, cpu) in threads1.items()
        ]
        return _cpu_by_kind(cpu1 - cpu0, spent)


def _process_key(proc: psutil.Process) -> tuple[int, float]:
    """(pid, start time) identifies a process across samples. The start time is read in clock
    ticks since boot: psutil's create_time adds the boot time, which moves when a VM's clock is
    adjusted, and then one JVM would count as two."""
    if not os.path.isdir("/proc"):
        return proc.pid, proc.create_time()
    try:
        return proc.pid, _stat(f"/proc/{proc.pid}/stat")[0]
    except (OSError, IndexError, ValueError) as exc:
        raise psutil.NoSuchProcess(proc.pid) from exc


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_by_kind: dict[str, float] = {}
        self.samples = 0
        self.drivers: set[tuple[int, float]] = set()
        self.other_java: set[tuple[int, float]] = set()
        self._procs: dict[tuple[int, float], psutil.Process] = {}
        self._kinds: dict[tuple[int, float], str] = {}
        self._launchers: set[tuple[int, float]] = set()
        self._jvm_cpu: dict[tuple[int, float], float] = {}
        # (JVM, tid, thread start) -> (kind, CPU seconds) of the threads of JVM_THREAD_KINDS,
        # kept when the thread ends; the rest of a JVM's total is "driver_and_other".
        self._thread_cpu: dict[tuple, tuple[str, float]] = {}
        self._cpu_read_at = float("-inf")
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def survivors(self) -> list[psutil.Process]:
        """Processes of the tree that are still running (e.g. a JVM orphaned by its parent)."""
        alive = []
        for (pid, created), proc in self._procs.items():
            try:
                if _process_key(proc) == (pid, created):
                    alive.append(proc)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        return alive

    def _classify(self, key, proc: psutil.Process) -> None:
        """Note Spark driver JVMs. A process is looked at until it is a JVM: spark-submit is a
        shell script that ``exec``s java, so the same pid is first bash, then the driver."""
        self._procs.setdefault(key, proc)
        if key in self.drivers or key in self.other_java or key in self._launchers:
            return
        try:
            if proc.name() != "java":
                return
            cmdline = proc.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return
        if SPARK_LAUNCHER_CLASS in cmdline:
            # Only computes the driver's command line; its arguments name SparkSubmit too.
            self._launchers.add(key)
        elif SPARK_DRIVER_CLASS in cmdline:
            self.drivers.add(key)
        else:
            self.other_java.add(key)

    def sample(self, read_cpu: bool = False) -> None:
        try:
            self._sample_memory([self.root, *self.root.children(recursive=True)])
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass  # the child has exited; its JVM may still be shutting down
        if read_cpu or time.monotonic() - self._cpu_read_at >= CPU_READ_INTERVAL_S:
            self._cpu_read_at = time.monotonic()
            for key in list(self.drivers):
                self._read_jvm_cpu(key)

    def _read_jvm_cpu(self, key: tuple[int, float]) -> None:
        read = _read_threads(*key)
        if read is None:
            return
        self._jvm_cpu[key], threads = read
        for (tid, thread_start), kind_cpu in threads.items():
            self._thread_cpu[(key, tid, thread_start)] = kind_cpu

    def jvm_cpu(self) -> dict[str, float]:
        """CPU seconds of the driver JVMs: ``total`` (the process's own count, which includes
        threads that ended) and per thread kind; ``driver_and_other`` is the rest of the total."""
        if not self._jvm_cpu:
            return {}
        return _cpu_by_kind(sum(self._jvm_cpu.values()), self._thread_cpu.values())

    def _sample_memory(self, procs: list[psutil.Process]) -> None:
        exes: dict[int, str] = {}
        for proc in procs:
            try:
                exes[proc.pid] = os.path.basename(proc.exe())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
                continue
        total = 0
        by_kind: dict[str, int] = {}
        for proc in procs:
            if proc.pid not in exes:
                continue
            try:
                if exes[proc.pid] == "java" and exes.get(proc.ppid()) == "java":
                    # A JVM spawning a process (Python workers, shell commands) clones itself
                    # first: until the exec the child runs the java binary in the JVM's memory
                    # (its name is the spawning thread's). Neither a JVM start nor memory.
                    continue
                key = _process_key(proc)
                self._classify(key, proc)
                rss = proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            total += rss
            kind = self._kind(key, proc)
            by_kind[kind] = by_kind.get(kind, 0) + rss
        self.samples += 1
        if total > self.peak:
            self.peak = total
            self.peak_by_kind = {k: round(v / 2**20, 1) for k, v in sorted(by_kind.items())}

    def _kind(self, key, proc: psutil.Process) -> str:
        if key not in self._kinds:
            if key in self.drivers:
                kind = "spark_jvm"
            elif key in self.other_java or key in self._launchers:
                kind = "other_java"
            elif proc.pid == self.root.pid:
                kind = "python"
            else:
                try:
                    cmdline = " ".join(proc.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    cmdline = ""
                kind = "python_workers" if "pyspark.daemon" in cmdline else "other"
            if kind == "other":
                return kind  # may still become a JVM (exec)
            self._kinds[key] = kind
        return self._kinds[key]

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)


def run_measured(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    log_path: str,
    result_path: str | None = None,
    interval: float = 0.1,
) -> Measurement:
    """Start ``args`` and measure it until it exits; its stdout and stderr go to ``log_path``.

    When ``result_path`` is given, the child is expected to write a JSON object there (its own
    inner timings); it becomes ``Measurement.inner`` (``{"error": ...}`` if it is missing).
    """
    if result_path and os.path.exists(result_path):
        os.remove(result_path)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        sampler = _TreeSampler(proc.pid, interval)
        sampler.start()
        try:
            returncode = proc.wait()
        except BaseException:  # interrupted: take the child's whole tree (its JVM) with it
            sampler.sample()
            for child in sampler.survivors():
                try:
                    child.kill()
                except psutil.NoSuchProcess:
                    pass
            proc.kill()
            proc.wait()
            raise
        finally:
            wall = time.perf_counter() - start
            sampler.stop()
            # Processes started after the last tick are known before cleanup; a JVM still
            # shutting down has its last CPU counted.
            sampler.sample(read_cpu=True)
            lag = _wait_for(sampler.survivors(), timeout=60.0)
    inner: dict = {}
    if result_path:
        try:
            with open(result_path) as f:
                inner = json.load(f)
        except (OSError, ValueError) as exc:
            inner = {"error": f"the child wrote no result ({type(exc).__name__}); see {log_path}"}
    return Measurement(
        returncode=returncode,
        wall_s=wall,
        peak_rss_bytes=sampler.peak,
        samples=sampler.samples,
        jvm_starts=len(sampler.drivers),
        other_java=len(sampler.other_java),
        exit_lag_s=lag,
        peak_by_kind=sampler.peak_by_kind,
        jvm_cpu_s=sampler.jvm_cpu(),
        inner=inner,
        log=log_path,
    )


def _wait_for(procs: list[psutil.Process], timeout: float) -> float:
    """Wait until the child's descendants are gone, so that no JVM outlives its repetition and
    overlaps the next one; kill what is left after ``timeout``. Returns the seconds waited."""
    start = time.perf_counter()
    procs = [p for p in procs if p.pid != os.getpid()]
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    return time.perf_counter() - start


def python_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
