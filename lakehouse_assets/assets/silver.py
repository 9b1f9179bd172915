"""Silver: cleaned current versions per key, their quarantine, and seed 003's intermediate tables.

The ``stg_*`` tables are daily-partitioned by landing date and merged incrementally: a run
of landing date D reads only bronze's D and touches only the keys re-sent on D, wherever
their previous version lives (``key_scope="table"``); an older landing date never overwrites
a newer version. The ``int_*`` tables are small and recomputed from silver in one write.
"""

from dagster import AssetIn, BackfillPolicy, Output, multi_asset

from lakehouse_assets.assets.factory import AUTOMATION, table_asset, table_out
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.transforms import intermediate
from lakehouse_assets.transforms.silver import ENTITY_SPECS, build_silver


def build_silver_asset(entity: str):
    spec = ENTITY_SPECS[entity]

    @multi_asset(
        name=f"silver_{entity}",
        ins={"bronze": AssetIn(key=["bronze", entity])},
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
    def _silver(bronze):
        # Both outputs come from one classification of the window's bronze rows.
        silver, quarantine = build_silver(bronze.persist(), spec)
        yield Output(silver, output_name=f"stg_{entity}")
        yield Output(quarantine, output_name=f"quarantine_{entity}")

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
