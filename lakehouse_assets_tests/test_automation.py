"""Downstream tables follow bronze without manual steps: the automation conditions, evaluated
by Dagster's own evaluator against a real instance (no Spark needed)."""

from dagster import AssetKey, AssetMaterialization, DagsterInstance, evaluate_automation_conditions

from lakehouse_assets.definitions import defs

DAY = "2023-03-01"



def test_a_new_bronze_day_makes_silver_then_gold_follow():
    instance = DagsterInstance.ephemeral()
    # Everything exists already: the first tick requests nothing new after this baseline.
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        partitions = [DAY] if node.partitions_def else [None]
        for partition in partitions:
            instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))
    result = evaluate_automation_conditions(defs=defs, instance=instance)
    cursor = result.cursor

    # New files for DAY land: bronze orders is materialized for that partition.
    for table in ("orders", "quarantine_orders", "ledger_orders"):
        instance.report_runless_asset_event(
            AssetMaterialization(AssetKey(["bronze", table]), partition=DAY)
        )
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    # First tick: the day's silver partition and the partitioned gold tables fed by it (eager
    # counts a parent requested in the same tick as updated), nothing unrelated.
    assert result.get_requested_partitions(AssetKey(["silver", "stg_orders"])) == {DAY}
    assert result.get_requested_partitions(AssetKey(["gold", "fct_daily_sales"])) == {DAY}
    assert result.get_requested_partitions(AssetKey(["silver", "int_customer_orders"])) == {DAY}
    assert result.get_num_requested(AssetKey(["silver", "stg_customers"])) == 0
    assert result.get_num_requested(AssetKey(["bronze", "customers"])) == 0
    result = materialize_requested(instance, result)

    # Second tick: the tables over all days, computed from the updated silver.
    for key in (["silver", "int_customer_rfm"], ["gold", "fct_customer_metrics"],
                ["gold", "dim_customer_segments"], ["ml", "ml_customer_features"]):
        assert result.get_num_requested(AssetKey(key)) == 1, key
    result = materialize_requested(instance, result)
    assert result.total_requested == 0


def materialize_requested(instance, result):
    """Record what the tick requested as materialized, then evaluate the next tick."""
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if result.get_num_requested(key):
            partition = DAY if graph.get(key).partitions_def else None
            instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))
    return evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)


def test_a_burst_of_bronze_days_is_one_backfill_not_a_run_per_day():
    """The automation sensor as the daemon evaluates it (its evaluation function, on a sensor
    context): three new bronze days are one request of a backfill over the three partitions,
    which the daemon runs as single runs (every partitioned asset's backfill policy)."""
    # The function the daemon runs for this sensor; Dagster has no public test entry for it.
    from dagster import build_sensor_context
    from dagster._core.definitions.automation_condition_sensor_definition import _evaluate

    from lakehouse_assets.sensors import automation_sensor

    days = ["2023-03-01", "2023-03-02", "2023-03-03"]
    instance = DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        for partition in days if graph.get(key).partitions_def else [None]:
            instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))

    def tick(cursor=None):
        context = build_sensor_context(instance=instance, definitions=defs, cursor=cursor)
        return _evaluate(automation_sensor, context)

    baseline = tick()
    assert baseline.run_requests == []
    for day in days:
        for table in ("orders", "quarantine_orders", "ledger_orders"):
            instance.report_runless_asset_event(
                AssetMaterialization(AssetKey(["bronze", table]), partition=day)
            )

    [request] = tick(baseline.cursor).run_requests
    subset = request.asset_graph_subset  # a backfill request, not a run per partition
    assert subset is not None
    requested = subset.partitions_subsets_by_asset_key
    assert set(requested[AssetKey(["silver", "stg_orders"])].get_partition_keys()) == set(days)
    assert set(requested[AssetKey(["gold", "fct_daily_sales"])].get_partition_keys()) == set(days)
    for key in requested:
        assert graph.get(key).backfill_policy.max_partitions_per_run is None, key  # single run
