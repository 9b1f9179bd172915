"""One timed repetition, in its own process: ``python -m benchmarks.scenario SPEC.json RESULT.json``.

The harness (``benchmarks.harness``) starts this module once per repetition so that every
repetition has its own interpreter and JVM, as a real run has, and measures it from outside.
SPEC is a JSON object whose ``op`` says what to do; the process writes its own inner timings
(and anything else the report needs) to RESULT as JSON. The environment already carries the
lakehouse settings (``LAKEHOUSE_PARTITIONS_START``, ``DAGSTER_HOME``, ...), set by the harness
before this interpreter imported anything.

Ops:
    generate      the project's landing-zone generator (lakehouse_assets.datagen)
    dagster       one in-process Dagster run of a selection, for a date range or one partition;
                  with ``stage_profile``, Spark's stage data per step too (benchmarks.stages);
                  optionally preceded by a landing-sensor tick whose request it then runs
    sensor        one landing-sensor tick (no run): the cursor after a landing zone
    peer_script   benchmarks.peers.pyspark_script.run
    peer_duckdb   benchmarks.peers.duckdb_pipeline.run
    verify_gold   gold numbers of two lakehouses and of DuckDB, compared three ways
"""

import json
import sys
import time
import traceback

_T0 = time.perf_counter()


SPARK_START: dict[str, float] = {}


def time_spark_start() -> None:
    """Record how long the process's first SparkSession (the JVM's start) takes.

    Wraps ``lakehouse_assets.resources.spark.build_spark_session``; call it before anything
    imports that name (the peers' script binds it at import).
    """
    from lakehouse_assets.resources import spark as spark_module

    original = spark_module.build_spark_session

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        session = original(*args, **kwargs)
        SPARK_START.setdefault("spark_start_seconds", time.perf_counter() - t0)
        return session

    spark_module.build_spark_session = timed


def op_generate(spec: dict) -> dict:
    from lakehouse_assets.datagen import generator
    from lakehouse_assets.datagen.defects import DefectInjector

    # Time each dataset's CSV rendering and writing by wrapping the per-day writer call; the
    # simulation before it is shared by every dataset and reported as its own phase.
    # (If the generator stops writing through DefectInjector.write_day, only the per-dataset
    # split is lost, not the scenario.)
    per_dataset: dict[str, float] = {}
    original = getattr(DefectInjector, "write_day", None)

    def timed_write_day(self, writer, dataset, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(self, writer, dataset, *args, **kwargs)
        finally:
            per_dataset[dataset] = per_dataset.get(dataset, 0.0) + time.perf_counter() - t0

    if original is not None:
        DefectInjector.write_day = timed_write_day
    t0 = time.perf_counter()
    summary = generator.generate_landing_zone(
        spec["out_dir"],
        seed=spec["seed"],
        order_items=spec["order_items"],
        start=spec["start"],
        days=spec["days"],
        defect_rate=spec.get("defect_rate", 0.0),
        profile=spec.get("profile", "clean"),
    )
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "write_seconds": per_dataset,
        "simulate_seconds": seconds - sum(per_dataset.values()),
        "summary": summary,
    }


def _definitions(storage, jobs, sensors=()):
    from dagster import Definitions, in_process_executor

    from lakehouse_assets.checks.definitions import quality_checks
    from lakehouse_assets.definitions import table_assets
    from lakehouse_assets.resources import build_resources

    return Definitions(
        assets=table_assets,
        asset_checks=quality_checks,
        jobs=jobs,
        sensors=list(sensors),
        resources=build_resources(storage),
        executor=in_process_executor,
    )


def _storage(spec: dict):
    from lakehouse_assets.resources import LakehouseStorage

    return LakehouseStorage(lakehouse_root=spec["lakehouse_root"], landing_root=spec["landing_root"])


def _sensor_tick(storage, instance, cursor):
    from dagster import build_sensor_context

    from lakehouse_assets.sensors import landing_zone_sensor

    context = build_sensor_context(
        cursor=cursor,
        resources={"storage": storage},
        instance=instance,
        definitions=_definitions(storage, [], [landing_zone_sensor]),
    )
    t0 = time.perf_counter()
    data = landing_zone_sensor.evaluate_tick(context)
    return data, time.perf_counter() - t0


def asset_selection(kind: str, sensor_keys=None):
    from dagster import AssetKey, AssetSelection

    if kind == "all":
        return "*"
    if kind == "sensor_request_downstream":
        return AssetSelection.assets(*sensor_keys).downstream()
    if kind == "bronze_silver_daily":
        # The daily-partitioned bronze and silver tables (stg_*, quarantine_*), without checks:
        # the per-landing-day work. silver.int_* are not part of it.
        from lakehouse_assets.assets.bronze import bronze_assets
        from lakehouse_assets.assets.silver import silver_entity_assets

        keys = [k for a in (*bronze_assets, *silver_entity_assets) for k in a.keys]
        return AssetSelection.assets(*keys).without_checks()
    if kind == "peer_tables":
        # The tables the plain PySpark script builds, and everything they need, no checks. The
        # bronze and silver steps run whole (their quarantine and ledger tables too).
        from lakehouse_assets.assets.bronze import bronze_assets
        from lakehouse_assets.assets.silver import silver_entity_assets

        whole_steps = [k for a in (*bronze_assets, *silver_entity_assets) for k in a.keys]
        return (
            AssetSelection.assets(
                AssetKey(["gold", "fct_customer_metrics"]),
                AssetKey(["gold", "dim_customer_segments"]),
                AssetKey(["gold", "fct_product_performance"]),
                AssetKey(["ml", "ml_customer_features"]),
            )
            .upstream()
            | AssetSelection.assets(*whole_steps)
        ).without_checks()
    raise ValueError(f"unknown selection {kind!r}")


def op_dagster(spec: dict) -> dict:
    t0 = time.perf_counter()
    from dagster import DagsterInstance, define_asset_job

    import lakehouse_assets.definitions  # noqa: F401  (the code location's imports, timed)

    time_spark_start()
    out: dict = {"import_seconds": time.perf_counter() - t0}
    storage = _storage(spec)
    profiled = None
    if spec.get("stage_profile"):
        # The run's session, started here with Spark's UI on (the run's resource reuses it).
        from benchmarks import stages
        from lakehouse_assets.resources.spark import build_spark_session

        profiled = build_spark_session(catalog_dir=storage.catalog_dir, extra_conf=stages.UI_CONF)
    with DagsterInstance.get() as instance:
        tags = dict(spec.get("tags", {}))
        partition_key = spec.get("partition_key")
        sensor_keys = None
        if "sensor_cursor" in spec:
            data, out["sensor_seconds"] = _sensor_tick(storage, instance, spec["sensor_cursor"])
            requests = data.run_requests or []
            out["sensor_run_requests"] = [
                {
                    "partition_key": r.partition_key,
                    "asset_selection": [k.to_user_string() for k in r.asset_selection or []],
                }
                for r in requests
            ]
            if len(requests) != 1:
                raise RuntimeError(
                    f"expected one run request for the new day, got {len(requests)} "
                    f"({data.skip_message or ''})"
                )
            [request] = requests
            sensor_keys = list(request.asset_selection)
            partition_key = request.partition_key
            tags.update(request.tags)
            tags.pop("dagster/partition", None)  # given as partition_key below
        if spec.get("range"):
            first, last = spec["range"]
            tags["dagster/asset_partition_range_start"] = first
            tags["dagster/asset_partition_range_end"] = last
        job = define_asset_job(
            f"bench_{spec['selection']}", selection=asset_selection(spec["selection"], sensor_keys)
        )
        defs = _definitions(storage, [job])
        t_run, wall_run = time.perf_counter(), time.time()
        result = defs.resolve_job_def(job.name).execute_in_process(
            instance=instance, tags=tags, partition_key=partition_key, raise_on_error=False
        )
        out["run_seconds"] = time.perf_counter() - t_run
        # Before RUN_START Dagster plans the run: one ASSET_MATERIALIZATION_PLANNED event per
        # asset and partition, each its own SQLite commit; after RUN_SUCCESS it closes the run.
        record = instance.get_run_record_by_id(result.run_id)
        if record is not None and record.start_time and record.end_time:
            out["before_run_start_seconds"] = record.start_time - wall_run
            out["after_run_end_seconds"] = (wall_run + out["run_seconds"]) - record.end_time
        records = instance.all_logs(result.run_id)
        out["run_events"] = len(records)
        out["materialization_log"] = materialization_log(records)
        out["run_id"] = result.run_id
        out["success"] = result.success
        out["partition_key"] = partition_key
        out["range"] = spec.get("range")
        steps, windows, status = {}, {}, {}
        for stat in instance.get_run_step_stats(result.run_id):
            if stat.start_time is not None and stat.end_time is not None:
                steps[stat.step_key] = stat.end_time - stat.start_time
                windows[stat.step_key] = (stat.start_time, stat.end_time)
            status[stat.step_key] = stat.status.value if stat.status else None
        out["steps"] = steps
        out["step_status"] = status
        if profiled is not None:
            out["stages"] = stages.summarize(*stages.fetch(profiled), windows)
        if not result.success:
            failed = [k for k, s in status.items() if s not in ("SUCCESS", "SKIPPED")]
            out["error"] = f"Dagster run {result.run_id} failed; steps not successful: {failed}"
    return out


def materialization_log(records) -> dict:
    """What recording materializations costs: a range run records one ASSET_MATERIALIZATION
    per table and day, after the IO manager has written the table. The time from each
    materialization to its step's next event is the storage of that event (with
    ``DAGSTER_EVENT_BATCH_SIZE`` set, Dagster buffers a range's events and stores them together
    after the last one, so that last gap holds the whole batch); their sum is the run's time
    spent in that bookkeeping."""
    count, measured, seconds, pending = 0, 0, 0.0, None
    for entry in records:
        if pending is not None and entry.step_key == pending.step_key:
            measured += 1
            seconds += entry.timestamp - pending.timestamp
        is_materialization = entry.dagster_event_type is not None and (
            entry.dagster_event_type.value == "ASSET_MATERIALIZATION"
        )
        count += is_materialization
        pending = entry if is_materialization else None
    return {"events": count, "measured": measured, "seconds": seconds}


def op_sensor(spec: dict) -> dict:
    from dagster import DagsterInstance

    storage = _storage(spec)
    with DagsterInstance.get() as instance:
        data, seconds = _sensor_tick(storage, instance, spec.get("cursor"))
    return {
        "sensor_seconds": seconds,
        "cursor": data.cursor,
        "run_requests": len(data.run_requests or []),
        "partitions": sorted({r.partition_key for r in data.run_requests or []}),
    }


def op_peer_script(spec: dict) -> dict:
    t0 = time.perf_counter()
    time_spark_start()
    from benchmarks.peers import pyspark_script

    import_seconds = time.perf_counter() - t0
    seconds = pyspark_script.run(spec["landing_root"], spec["lakehouse_root"])
    return {"import_seconds": import_seconds, "seconds": seconds, "run_seconds": seconds.get("total")}


def op_peer_duckdb(spec: dict) -> dict:
    t0 = time.perf_counter()
    from benchmarks.peers import duckdb_pipeline

    import_seconds = time.perf_counter() - t0
    timings: dict[str, float] = {}
    t_run = time.perf_counter()
    tables = duckdb_pipeline.run(spec["landing_root"], spec.get("threads"), timings=timings)
    return {
        "import_seconds": import_seconds,
        "run_seconds": time.perf_counter() - t_run,
        "seconds": timings,
        "rows": {name: len(df) for name, df in tables.items()},
    }


def op_verify_gold(spec: dict) -> dict:
    from benchmarks.peers import duckdb_pipeline
    from benchmarks.peers.gold_numbers import compare_gold, gold_tables_from_delta, summary
    from lakehouse_assets.resources.spark import build_spark_session

    spark = build_spark_session(app_name="benchmarks_verify_gold")
    builds = {
        "dagster": gold_tables_from_delta(spark, spec["dagster_lakehouse"]),
        "script": gold_tables_from_delta(spark, spec["script_lakehouse"]),
        "duckdb": duckdb_pipeline.run(spec["landing_root"]),
    }
    comparisons = {}
    for expected, actual in (("dagster", "script"), ("dagster", "duckdb"), ("script", "duckdb")):
        comparisons[f"{expected}_vs_{actual}"] = compare_gold(builds[expected], builds[actual])
    summaries = {name: summary(tables) for name, tables in builds.items()}
    return {
        "equal": not any(comparisons.values()),
        "differences": comparisons,
        "summary": summaries["dagster"],
        "summaries_equal": summaries["dagster"] == summaries["script"] == summaries["duckdb"],
        "summaries": summaries,
    }


OPS = {
    "generate": op_generate,
    "dagster": op_dagster,
    "sensor": op_sensor,
    "peer_script": op_peer_script,
    "peer_duckdb": op_peer_duckdb,
    "verify_gold": op_verify_gold,
}


def main(argv: list[str]) -> int:
    spec_path, result_path = argv
    with open(spec_path) as f:
        spec = json.load(f)
    try:
        result = OPS[spec["op"]](spec)
        result.update(SPARK_START)
        code = 1 if result.get("error") else 0
    except Exception as exc:  # reported to the harness, which goes on with other scenarios
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        code = 1
    result["process_seconds"] = time.perf_counter() - _T0
    with open(result_path, "w") as f:
        json.dump(result, f, indent=1, default=str)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
