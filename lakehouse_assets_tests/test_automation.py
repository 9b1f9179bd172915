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
    assert result.get_num_requested(AssetKey(["silver", "stg_customers"])) == 0
    assert result.get_num_requested(AssetKey(["bronze", "customers"])) == 0
    result = materialize_requested(instance, result)

    # Second tick: the tables over all days, computed from the updated silver.
    for key in (["silver", "int_customer_orders"], ["gold", "fct_customer_metrics"],
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
