"""The Spark resource: one SparkSession with Delta Lake per process.

``build_spark_session`` is a plain function (tests, benchmarks and users call it without
Dagster); ``SparkResource`` is the thin Dagster resource around it. The in-process session
itself is created by dagster-pyspark's ``LazyPySparkResource`` from one dict of settings.
``SparkResource`` is not a ``PySparkResource`` because it does three things that one does not:
it connects to a running Spark Connect server instead of starting a JVM (``remote``, or the
server ``lakehouse-spark-server`` started for this lakehouse), it resolves and caches Delta's
jars, and it turns a JVM that does not start into advice instead of a py4j trace. On the local default
the whole Dagster run executes in one process (see ``definitions.py``: in-process executor),
so a run starts exactly one JVM.

Delta's jars: the first start resolves ``io.delta:delta-spark_<spark>_<scala>:<version>``
(the pip-installed delta-spark version) from Maven Central and copies the resolved jars to
a local cache; later starts load them from there with ``spark.jars``, offline and without
Ivy resolution. Air-gapped machines point ``LAKEHOUSE_SPARK_JARS`` at local jar files.
"""

from __future__ import annotations

import glob
import os
import shutil
from importlib import metadata
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from lakehouse_assets.resources.storage import LakehouseStorage


DEFAULT_MASTER = "local[*]"
DEFAULT_SHUFFLE_PARTITIONS = 8
# Spark's log levels for our JVMs: its defaults, minus warnings that are expected here.
LOG4J_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")


class SparkStartupError(RuntimeError):
    """Spark (with Delta Lake) could not start; the message says what was tried."""


def delta_maven_coordinate() -> str:
    """The Maven artifact matching the installed pyspark and delta-spark (as delta's pip helper)."""
    import pyspark

    spark_mm = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_mm}_2.13:{metadata.version('delta-spark')}"


def jar_cache_dir() -> str:
    base = os.environ.get("LAKEHOUSE_JAR_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "lakehouse_assets", "jars"
    )
    return os.path.join(base, delta_maven_coordinate().replace(":", "_"))


def _cached_jars(cache: str) -> list[str]:
    if not os.path.exists(os.path.join(cache, "COMPLETE")):
        return []
    return sorted(glob.glob(os.path.join(cache, "*.jar")))


def _remember_resolved_jars(spark: Any, cache: str) -> None:
    """Copy the jars Ivy resolved into the cache so that the next start is offline."""
    resolved = [
        j.removeprefix("file://").removeprefix("file:")
        for j in spark.sparkContext.getConf().get("spark.jars", "").split(",")
        if j
    ]
    if not resolved:
        return
    os.makedirs(cache, exist_ok=True)
    for jar in resolved:
        shutil.copy2(jar, cache)
    with open(os.path.join(cache, "COMPLETE"), "w") as f:
        f.write("\n".join(resolved))


TABLE_PROPERTIES = {
    "deletedFileRetentionDuration": "interval 168 hours",
    "logRetentionDuration": "interval 30 days",
}


def delta_session_conf(
    *,
    master: str = DEFAULT_MASTER,
    catalog_dir: str | None = None,
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS,
    ui_enabled: bool = False,
    jars: str | None = None,
    extra_conf: dict[str, str] | None = None,
    app_name: str = "lakehouse_assets",
) -> tuple[dict[str, str], list[str]]:
    """(Spark settings of a Delta session, how its jars are found): the in-process session
    and the local Spark Connect server (``lakehouse-spark-server``) start with the same."""
    conf: dict[str, str] = {
        "spark.master": master,
        "spark.app.name": app_name,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # Small data on a small machine: few shuffle partitions, AQE coalesces the rest.
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.default.parallelism": str(shuffle_partitions),
        "spark.ui.enabled": str(ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": os.environ.get("LAKEHOUSE_SPARK_DRIVER_MEMORY", "2g"),
        # Delta: keep the commit log small and the stats useful for partition pruning.
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # Delta rebuilds table state from its log with this many tasks (default 50: far
        # too many for a laptop-sized table; it dominated every read here).
        "spark.databricks.delta.snapshotPartitions": str(max(1, shuffle_partitions // 4)),
        # VACUUM (and any parallel file listing) runs this many tasks (default 10,000: one
        # VACUUM of a one-file table took 30-65 s here, 2-6 s with this).
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(shuffle_partitions),
        "spark.databricks.delta.merge.repartitionBeforeWrite.enabled": "true",
        "spark.databricks.delta.optimizeWrite.enabled": "true",
        # VACUUM records itself in the table's history (VACUUM START / END, files deleted).
        "spark.databricks.delta.vacuum.logging.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Tungsten's memory page. Spark sizes it from the heap (32 MiB with a 2 GiB driver)
        # and every hash table takes at least one page, the build of each broadcast join
        # too; a query plan over many small tables builds dozens at once, which ran the
        # driver out of heap for a few hundred rows. Larger tables take more pages.
        "spark.buffer.pageSize": "2m",
    }
    # Table properties every new table is created with (Delta reads `delta.<property>` defaults
    # from these session settings): removed data files stay readable for 168 hours, the span
    # VACUUM keeps, and the log keeps 30 days of history for time travel and restore.
    conf.update({f"spark.databricks.delta.properties.defaults.{name}": value
                 for name, value in TABLE_PROPERTIES.items()})
    java_options = [f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"]
    if catalog_dir:
        # A persistent local metastore, so `SELECT * FROM gold.x` works in a new session.
        conf["spark.sql.catalogImplementation"] = "hive"
        conf["spark.sql.warehouse.dir"] = os.path.join(catalog_dir, "warehouse")
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={os.path.join(catalog_dir, 'metastore_db')};create=true"
        )
        java_options.append(f"-Dderby.system.home={catalog_dir}")
        os.makedirs(catalog_dir, exist_ok=True)
    conf["spark.driver.extraJavaOptions"] = " ".join(java_options)

    jars = jars if jars is not None else os.environ.get("LAKEHOUSE_SPARK_JARS")
    cache = jar_cache_dir()
    tried: list[str] = []
    if jars:
        missing = [j for j in jars.split(",") if "://" not in j and not os.path.exists(j)]
        if missing:
            raise SparkStartupError(
                f"LAKEHOUSE_SPARK_JARS names jar files that do not exist: {missing}. "
                f"Point it at the jars of {delta_maven_coordinate()} and its dependency "
                "io.delta:delta-storage."
            )
        conf["spark.jars"] = jars
        tried.append(f"local jars from LAKEHOUSE_SPARK_JARS ({jars})")
    elif cached := _cached_jars(cache):
        conf["spark.jars"] = ",".join(cached)
        tried.append(f"cached Delta jars in {cache}")
    else:
        conf["spark.jars.packages"] = delta_maven_coordinate()
        conf["spark.jars.ivy"] = os.path.join(os.path.dirname(cache), "ivy")
        tried.append(f"resolving {delta_maven_coordinate()} from Maven Central")
    conf.update(extra_conf or {})
    return conf, tried


def build_spark_session(
    *,
    master: str = DEFAULT_MASTER,
    remote: str | None = None,
    catalog_dir: str | None = None,
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS,
    ui_enabled: bool = False,
    jars: str | None = None,
    extra_conf: dict[str, str] | None = None,
    app_name: str = "lakehouse_assets",
) -> Any:
    """Return the process's SparkSession with Delta Lake, creating it on first call."""
    from pyspark.sql import SparkSession

    if remote:
        # Spark Connect: the server owns the JVM, the Delta jars and the catalog.
        return SparkSession.builder.remote(remote).appName(app_name).getOrCreate()

    active = SparkSession.getActiveSession()
    if active is not None:
        return active

    conf, tried = delta_session_conf(
        master=master, catalog_dir=catalog_dir, shuffle_partitions=shuffle_partitions,
        ui_enabled=ui_enabled, jars=jars, extra_conf=extra_conf, app_name=app_name,
    )
    from dagster_pyspark import LazyPySparkResource

    if master.startswith("local"):
        # A local driver needs no network address; without this Spark looks for one and warns
        # on every start where the host name resolves to loopback (containers, CI).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        # dagster-pyspark builds the in-process session from the settings (getOrCreate).
        spark = LazyPySparkResource(spark_config=conf).spark_session
    except Exception as exc:  # the JVM did not start: turn a gateway trace into advice
        raise SparkStartupError(
            "Spark with Delta Lake could not start. Tried: "
            + "; ".join(tried)
            + f". Cause: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}. "
            "Fix: check that Java 17+ is on PATH (JAVA_HOME), that Maven Central is reachable "
            "for the first start, or download the jars once "
            "(`bash scripts/fetch_delta_jars.sh`) and set LAKEHOUSE_SPARK_JARS to them."
        ) from exc
    if "spark.jars.packages" in conf:
        _remember_resolved_jars(spark, jar_cache_dir())
    spark.sparkContext.setLogLevel(os.environ.get("LAKEHOUSE_SPARK_LOG_LEVEL", "WARN"))
    return spark


class SparkResource(ConfigurableResource):
    """A SparkSession with Delta Lake. Local by default; scale out by configuration only."""

    master: str = Field(
        default=DEFAULT_MASTER,
        description="Spark master URL: local[*], spark://host:7077, yarn, k8s://https://...",
    )
    remote: str | None = Field(
        default=None,
        description="Spark Connect URL (sc://host:15002); overrides master when set. Unset, "
        "a local server started by `lakehouse-spark-server start` for this lakehouse is used "
        "while it runs.",
    )
    storage: LakehouseStorage | None = Field(
        default=None,
        description="The lakehouse whose local Hive metastore (beside its tables) the session "
        "uses, and whose local Spark Connect server it looks for.",
    )
    shuffle_partitions: int = Field(
        default=DEFAULT_SHUFFLE_PARTITIONS,
        description="spark.sql.shuffle.partitions; adaptive execution coalesces below it.",
    )
    ui_enabled: bool = Field(default=False, description="Start the Spark UI on port 4040.")
    jars: str | None = Field(
        default=None,
        description="Comma-separated local Delta jars (air-gapped); env LAKEHOUSE_SPARK_JARS.",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict, description="Any further Spark settings, passed as they are."
    )

    _session: Any = PrivateAttr(default=None)

    @property
    def catalog_dir(self) -> str | None:
        return self.storage.catalog_dir if self.storage is not None else None

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._session = None  # lazy: runs that touch no table start no JVM

    @property
    def spark_session(self) -> Any:
        if self._session is None:
            from lakehouse_assets.spark_server import server_for

            self._session = build_spark_session(
                master=self.master,
                remote=self.remote or server_for(self.catalog_dir),
                catalog_dir=self.catalog_dir,
                shuffle_partitions=self.shuffle_partitions,
                ui_enabled=self.ui_enabled,
                jars=self.jars,
                extra_conf=self.spark_conf,
            )
        return self._session
