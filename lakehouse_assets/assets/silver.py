"""Silver: cleaned current versions per key, their quarantine, and the intermediate tables.

The ``stg_*`` tables are daily-partitioned by landing date and merged incrementally: a run
of landing date D reads only bronze's D and touches only the keys re-sent on D, wherever
their previous version lives (``key_scope="table"``); an older landing date never overwrites
a newer version. ``int_customer_rfm`` (from the per-customer summary) and
``int_product_metrics`` are replaced whole; ``int_customer_orders`` and the per-customer
summary are merged per landing day by ``assets.by_landing_day``.
"""

from dagster import AssetExecutionContext, AssetIn, AssetKey, MetadataValue, Output
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import Table, step, table_asset
from lakehouse_assets.resources.delta_io_manager import REVISITED_DATES, read_table
from lakehouse_assets.transforms import intermediate
from lakehouse_assets.transforms.silver import (
    ENTITY_SPECS,
    EntitySpec,
    build_silver,
    landing_dates_of_vanished_keys,
    landing_dates_to_revisit,
    rejected_parents,
)


def _with_rejected_parents(context, spark, storage, spec: EntitySpec, bronze):
    """The window's bronze rows plus those of other landing dates whose parent the window
    touched, the parents silver rejected, and those other dates (which the output replaces)."""
    def stored(layer: str, table: str):
        df = read_table(spark, storage.table_path(layer, table))
        if df is None:
            raise FileNotFoundError(f"Materialize {layer}/{table} before silver/stg_{spec.entity}.")
        return df

    key = ENTITY_SPECS[spec.parent].key
    stg, quarantined = stored("silver", f"stg_{spec.parent}"), stored("silver", f"quarantine_{spec.parent}")
    stored_bronze = stored("bronze", spec.entity)
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    landed = (F.col("_landing_date") >= F.lit(start)) & (F.col("_landing_date") < F.lit(end))
    touched = stg.where(landed).select(key).unionByName(quarantined.where(landed).select(key))
    revisit = landing_dates_to_revisit(stored_bronze, touched, key, start, end)
    if revisit:
        bronze = bronze.unionByName(stored_bronze.where(F.col("_landing_date").isin(revisit)))
    return bronze, rejected_parents(stg, quarantined, key), revisit


def build_silver_asset(entity: str):
    spec = ENTITY_SPECS[entity]
    parent_tables = (
        [AssetKey(["silver", f"stg_{spec.parent}"]), AssetKey(["silver", f"quarantine_{spec.parent}"])]
        if spec.parent else []
    )
    tables = [Table("silver", f"stg_{entity}"), Table("silver", f"quarantine_{entity}")]

    # Both tables come from one classification of the window's bronze rows.
    @step(
        f"silver_{entity}", tables, ins={"bronze": AssetIn(key=["bronze", entity])},
        deps=parent_tables, partitioned=True, together=True,
    )
    def _silver(context: AssetExecutionContext, bronze) -> dict:
        limits = context.resources.quality.plausibility()
        session, storage = context.resources.spark.spark_session, context.resources.storage
        rejected, revisit = None, []
        if spec.parent:
            bronze, rejected, revisit = _with_rejected_parents(
                context, session, storage, spec, bronze
            )
        silver, quarantine = build_silver(bronze, spec, limits, rejected)
        # A key whose current version this run replaces away falls back to its latest valid
        # version on another landing date: re-classify those dates too (rare: corrections).
        stored_stg = read_table(session, storage.table_path("silver", f"stg_{entity}"))
        if stored_stg is not None:
            window = context.partition_time_window
            replaced = (
                (F.col("_landing_date") >= F.lit(window.start.date()))
                & (F.col("_landing_date") < F.lit(window.end.date()))
            ) | F.col("_landing_date").isin(revisit)
            stored_bronze = read_table(session, storage.table_path("bronze", entity))
            fallback = landing_dates_of_vanished_keys(
                stored_stg, silver, stored_bronze, spec.key, replaced
            )
            if fallback:
                revisit = sorted({*revisit, *fallback})
                bronze = bronze.unionByName(
                    stored_bronze.where(F.col("_landing_date").isin(fallback))
                )
                silver, quarantine = build_silver(bronze, spec, limits, rejected)
        metadata = {
            "plausibility_limits": MetadataValue.json(
                {k: str(v) for k, v in limits.__dict__.items()}
            ),
            REVISITED_DATES: MetadataValue.json([d.isoformat() for d in revisit]),
        }
        return {
            f"stg_{entity}": Output(silver, metadata=metadata),
            f"quarantine_{entity}": Output(quarantine, metadata=metadata),
        }

    return _silver


silver_entity_assets = [build_silver_asset(entity) for entity in ENTITY_SPECS]

int_customer_rfm = table_asset("silver", "int_customer_rfm", intermediate.int_customer_rfm)
int_product_metrics = table_asset("silver", "int_product_metrics", intermediate.int_product_metrics)

silver_assets = [*silver_entity_assets, int_customer_rfm, int_product_metrics]
