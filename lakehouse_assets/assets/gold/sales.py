"""Gold sales marts: daily sales and per-customer daily spend merged per landing day, the
sales forecast, and the finance mart.

``fct_daily_sales`` and ``fct_user_daily_spend`` are keyed by order date but fed by landing
days: a run of landing date D recomputes exactly the order dates that D's orders and items
touch (a status change landing on D updates its order's date, wherever it is) and upserts
them; the cost follows the day, not the history.
"""

from dagster import AssetIn, AssetKey, BackfillPolicy, MetadataValue, Output, asset
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import (
    AUTOMATION,
    TABLE_KINDS,
    table_asset,
    with_layer_metadata,
)
from lakehouse_assets.catalog import column_descriptions
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import LakehouseStorage, SparkResource
from lakehouse_assets.resources.delta_io_manager import read_table
from lakehouse_assets.transforms import forecast, intermediate, marts, sales
from lakehouse_assets.transforms.incremental import orders_on_touched_dates, touched_orders

ORDER_SOURCES = ["silver.stg_orders", "silver.stg_order_items"]


def _recompute_touched(orders_landed, items_landed, storage, spark, compute) -> DataFrame:
    session = spark.spark_session
    stg_orders = read_table(session, storage.table_path("silver", "stg_orders"))
    stg_items = read_table(session, storage.table_path("silver", "stg_order_items"))
    touched = touched_orders(orders_landed, items_landed, stg_orders)
    orders, items = orders_on_touched_dates(touched, stg_orders, stg_items)
    customer_orders = intermediate.int_customer_orders(orders, items)
    return with_layer_metadata(compute(touched, customer_orders, items), "gold", ORDER_SOURCES)


def _landing_day_asset(table: str, merge_keys: list[str], description: str, compute):
    @asset(
        key=["gold", table],
        ins={
            "orders_landed": AssetIn(key=["silver", "stg_orders"]),
            "items_landed": AssetIn(key=["silver", "stg_order_items"]),
        },
        description=description,
        metadata={
            "merge_keys": merge_keys,
            "column_descriptions": column_descriptions("gold", table),
        },
        group_name="gold",
        kinds=TABLE_KINDS,
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        automation_condition=AUTOMATION,
    )
    def _asset(orders_landed, items_landed, storage: LakehouseStorage, spark: SparkResource):
        return _recompute_touched(orders_landed, items_landed, storage, spark, compute)

    return _asset


def _daily_sales(touched, customer_orders, items):
    return sales.fct_daily_sales(customer_orders, items, order_dates=touched)


def _user_daily_spend(touched, customer_orders, _items):
    # Every touched (customer, day) gets a row, zero when its orders were cancelled since.
    pairs = touched.select("customer_id", "order_date").distinct()
    spend = sales.fct_user_daily_spend(customer_orders)
    return pairs.join(spend, ["customer_id", "order_date"], "left").select(
        "customer_id",
        "order_date",
        F.coalesce("total_spend", F.lit(0).cast("decimal(18,2)")).alias("total_spend"),
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
    )


fct_daily_sales = _landing_day_asset(
    "fct_daily_sales",
    ["order_date"],
    "Completed orders per order date (seeds 000 and 001): order count, sales, average order "
    "value, units, items per order, unique customers. Merged per landing day; a date whose "
    "orders were all cancelled since keeps a row of zeros.",
    _daily_sales,
)
fct_user_daily_spend = _landing_day_asset(
    "fct_user_daily_spend",
    ["customer_id", "order_date"],
    "Completed spend and orders per customer per order date (seed 002's user spend summary, "
    "adapted to orders). Merged per landing day.",
    _user_daily_spend,
)


@asset(
    key=["gold", "fct_sales_forecast"],
    ins={"daily_sales": AssetIn(key=AssetKey(["gold", "fct_daily_sales"]))},
    description="Next 30 days of sales from a least-squares model on trend and day of week "
    "(seed 000); the model's error on a held-out window is in the metadata.",
    metadata={"column_descriptions": column_descriptions("gold", "fct_sales_forecast")},
    group_name="gold",
    kinds=TABLE_KINDS,
    automation_condition=AUTOMATION,
)
def fct_sales_forecast(daily_sales):
    forecast_df, metrics = forecast.fct_sales_forecast(daily_sales.where("order_count > 0"))
    meta = {
        f"holdout_{k}": MetadataValue.float(float(v))
        for k, v in metrics.items()
        if k in ("mae", "mape", "rmse") and v is not None
    }
    meta["model"] = MetadataValue.json({k: v for k, v in metrics.items()})
    return Output(with_layer_metadata(forecast_df, "gold", ["gold.fct_daily_sales"]), metadata=meta)


fct_finance_daily = table_asset(
    "gold",
    "fct_finance_daily",
    marts.fct_finance_daily,
    inputs=["silver.stg_orders", "silver.stg_order_items", "silver.stg_products"],
    description="Finance mart (seed 000) by order date, category and payment method: revenue, "
    "tax, discounts, profit, refunds, credit-card revenue.",
)

sales_assets = [fct_daily_sales, fct_user_daily_spend, fct_sales_forecast, fct_finance_daily]
