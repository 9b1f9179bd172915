"""Silver: cleaned current versions per key, their quarantine, and seed 003's intermediate tables.

The ``stg_*`` tables are daily-partitioned by landing date and merged incrementally: a run
of landing date D reads only bronze's D and touches only the keys re-sent on D, wherever
their previous version lives (``key_scope="table"``); an older landing date never overwrites
a newer version. The ``int_*`` tables are small and recomputed from silver in one write.
"""

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    BackfillPolicy,
    MetadataValue,
    Output,
    multi_asset,
)
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import AUTOMATION, table_asset, table_out
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import LakehouseStorage, QualitySettings, SparkResource
from lakehouse_assets.resources.delta_io_manager import REVISITED_DATES, read_table
from lakehouse_assets.transforms import intermediate
from lakehouse_assets.transforms.silver import (
    ENTITY_SPECS,
    EntitySpec,
    build_silver,
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

    @multi_asset(
        name=f"silver_{entity}",
        ins={"bronze": AssetIn(key=["bronze", entity])},
        deps=parent_tables,
        outs={
            f"stg_{entity}": table_out(
                "silver", f"stg_{entity}",
                f"Current version of each {entity} record (seed 003 module 2 cleaning; latest "
                "landing date wins, then the last row in file order).",
                {"merge_keys": [spec.key], "partition_expr": "_landing_date",
                 "key_scope": "table"},
                automation_condition=AUTOMATION,
            ),
            f"quarantine_{entity}": table_out(
                "silver", f"quarantine_{entity}",
                f"Bronze {entity} rows that silver rejected, with every reason.",
                {"merge_keys": ["_source_file", "_line_number"], "partition_expr": "_landing_date"},
                automation_condition=AUTOMATION,
            ),
        },
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def _silver(
        context: AssetExecutionContext,
        bronze,
        spark: SparkResource,
        storage: LakehouseStorage,
        quality: QualitySettings,
    ):
        limits = quality.plausibility()
        rejected, revisit = None, []
        if spec.parent:
            bronze, rejected, revisit = _with_rejected_parents(
                context, spark.spark_session, storage, spec, bronze
            )
        # Both outputs come from one classification of the window's bronze rows.
        silver, quarantine = build_silver(bronze.persist(), spec, limits, rejected)
        metadata = {
            "plausibility_limits": MetadataValue.json(
                {k: str(v) for k, v in limits.__dict__.items()}
            ),
            REVISITED_DATES: MetadataValue.json([d.isoformat() for d in revisit]),
        }
        yield Output(silver, output_name=f"stg_{entity}", metadata=metadata)
        yield Output(quarantine, output_name=f"quarantine_{entity}", metadata=metadata)

    return _silver


silver_entity_assets = [build_silver_asset(entity) for entity in ENTITY_SPECS]

int_customer_orders = table_asset(
    "silver",
    "int_customer_orders",
    intermediate.int_customer_orders,
    inputs=["silver.stg_orders", "silver.stg_order_items"],
    description="One row per completed order with its subtotal, total and item count "
    "(seed 003 3.1).",
)
int_customer_rfm = table_asset(
    "silver",
    "int_customer_rfm",
    intermediate.int_customer_rfm,
    inputs=["silver.int_customer_orders"],
    description="Recency, frequency, monetary value and their 1-5 scores per customer with a "
    "completed order, as of the analysis date (seed 003 3.2).",
)
int_product_metrics = table_asset(
    "silver",
    "int_product_metrics",
    intermediate.int_product_metrics,
    inputs=["silver.stg_products", "silver.stg_order_items", "silver.stg_orders"],
    description="Sales of every product over completed orders, zeros where unsold "
    "(seed 003 3.3).",
)

silver_assets = [*silver_entity_assets, int_customer_orders, int_customer_rfm, int_product_metrics]
