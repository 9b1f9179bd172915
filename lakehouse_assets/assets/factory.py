"""One way to declare a table asset: a plain transform function plus the tables it reads.

Assets stay thin: they bind upstream tables (loaded by the Delta IO manager) to a function
from ``lakehouse_assets.transforms`` and return its DataFrame; gold tables also get seed 001's
metadata columns (``silver_source_tables``, ``processing_timestamp``, ``layer``).
"""

from collections.abc import Callable, Sequence

from dagster import AssetIn, AssetOut, AutomationCondition, Output, asset
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.catalog import column_descriptions

# Downstream tables follow their inputs without manual steps once the automation sensor runs.
# eager() alone only updates the latest daily partition and waits while any parent partition
# is missing. Landing days arrive late or not at all (no files, no partition), so here every
# partition whose parents update follows, and a table over all days does not wait for days
# that never landed.
AUTOMATION = AutomationCondition.eager().without(
    AutomationCondition.in_latest_time_window()
).without(~AutomationCondition.any_deps_missing())


TABLE_KINDS = {"spark", "delta"}


def table_out(
    layer: str, table: str, description: str, metadata: dict, automation_condition=None
) -> AssetOut:
    """An output of a multi-asset that is the Delta table ``<layer>.<table>``: its key, group,
    kinds and, for the IO manager, its merge metadata and column descriptions."""
    return AssetOut(
        key=[layer, table],
        description=description,
        metadata={**metadata, "column_descriptions": column_descriptions(layer, table)},
        group_name=layer,
        kinds=TABLE_KINDS,
        automation_condition=automation_condition,
    )


def with_layer_metadata(df: DataFrame, layer: str, sources: Sequence[str]) -> DataFrame:
    """Seed 001's lineage columns. processing_timestamp is metadata only, never business logic."""
    return df.select(
        "*",
        F.lit(",".join(sorted(sources))).alias("silver_source_tables"),
        F.current_timestamp().alias("processing_timestamp"),
        F.lit(layer).alias("layer"),
    )


def _input_name(table: str) -> str:
    return table.split(".", 1)[1]


def table_asset(
    layer: str,
    table: str,
    transform: Callable[..., DataFrame],
    *,
    inputs: Sequence[str],
    description: str,
    metadata: dict | None = None,
    partitions_def=None,
    backfill_policy=None,
):
    """An asset ``[layer, table]`` computed as ``transform(*inputs)`` (inputs: "layer.table").

    ``transform`` returns a DataFrame, or ``(DataFrame, metadata)`` to attach metadata (charts,
    model errors) to the materialization.
    """
    ins = {_input_name(t): AssetIn(key=t.split(".")) for t in inputs}
    add_lineage = layer == "gold"

    @asset(
        key=[layer, table],
        ins=ins,
        description=description,
        # Column descriptions travel as definition metadata to the IO manager (UI schema).
        metadata={"column_descriptions": column_descriptions(layer, table), **(metadata or {})},
        group_name=layer,
        kinds=TABLE_KINDS,
        automation_condition=AUTOMATION,
        partitions_def=partitions_def,
        backfill_policy=backfill_policy,
    )
    def _table(**loaded: DataFrame) -> Output:
        result = transform(*(loaded[_input_name(t)] for t in inputs))
        df, extra_metadata = result if isinstance(result, tuple) else (result, {})
        if add_lineage:
            df = with_layer_metadata(df, layer, inputs)
        return Output(df, metadata=extra_metadata)

    return _table
