"""Gold sales marts: daily sales and per-customer daily spend merged per landing day, the
sales forecast, and the finance mart.

``fct_daily_sales`` and ``fct_user_daily_spend`` are keyed by order date but fed by landing
days: a run of landing date D recomputes exactly the order dates that D's orders and items
touch (a status change landing on D updates its order's date, wherever it is) and upserts
them; the cost follows the day, not the history.
"""

from dagster import AssetIn, MetadataValue
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import Table, step, table_asset, with_layer_metadata
from lakehouse_assets.resources.delta_io_manager import read_table
from lakehouse_assets.transforms import forecast, intermediate, marts, sales
from lakehouse_assets.transforms.incremental import orders_on_touched_dates, touched_orders

ORDER_SOURCES = ["silver.stg_orders", "silver.stg_order_items"]


def _user_daily_spend(touched, customer_orders) -> DataFrame:
    # Every touched (customer, day) gets a row, zero when its orders were cancelled since.
    pairs = touched.select("customer_id", "order_date").distinct()
    spend = sales.fct_user_daily_spend(customer_orders)
    return pairs.join(spend, ["customer_id", "order_date"], "left").select(
        "customer_id",
        "order_date",
        F.coalesce("total_spend", F.lit(0).cast("decimal(18,2)")).alias("total_spend"),
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
    )


@step(
    "gold_sales_by_order_date",
    [
        Table(
            "gold", "fct_daily_sales",
            "Completed orders per order date (seeds 000 and 001): order count, sales, average "
            "order value, units, items per order, unique customers. Merged per landing day; a "
            "date whose orders were all cancelled since keeps a row of zeros.",
            {"merge_keys": ["order_date"]},
        ),
        Table(
            "gold", "fct_user_daily_spend",
            "Completed spend and orders per customer per order date (seed 002's user spend "
            "summary, adapted to orders). Merged per landing day.",
            {"merge_keys": ["customer_id", "order_date"]},
        ),
    ],
    ins={
        "orders_landed": AssetIn(key=["silver", "stg_orders"]),
        "items_landed": AssetIn(key=["silver", "stg_order_items"]),
    },
    partitioned=True,
)
def sales_by_order_date(context, orders_landed: DataFrame, items_landed: DataFrame) -> dict:
    """Both tables for the order dates the run's landing days touch, from one read."""
    session = context.resources.spark.spark_session
    storage = context.resources.storage
    stg_orders = read_table(session, storage.table_path("silver", "stg_orders"))
    stg_items = read_table(session, storage.table_path("silver", "stg_order_items"))
    touched = touched_orders(orders_landed, items_landed, stg_orders)
    orders, items = orders_on_touched_dates(touched, stg_orders, stg_items)
    customer_orders = intermediate.int_customer_orders(orders, items)
    return {
        "fct_daily_sales": with_layer_metadata(
            sales.fct_daily_sales(customer_orders, items, order_dates=touched), "gold",
            ORDER_SOURCES,
        ),
        "fct_user_daily_spend": with_layer_metadata(
            _user_daily_spend(touched, customer_orders), "gold", ORDER_SOURCES
        ),
    }


def sales_forecast(fct_daily_sales: DataFrame):
    """The forecast from the days with sales, and the model's held-out errors as metadata."""
    forecast_df, metrics = forecast.fct_sales_forecast(fct_daily_sales.where("order_count > 0"))
    meta = {
        f"holdout_{k}": MetadataValue.float(float(v))
        for k, v in metrics.items()
        if k in ("mae", "mape", "rmse") and v is not None
    }
    meta["model"] = MetadataValue.json({k: v for k, v in metrics.items()})
    return forecast_df, meta


fct_sales_forecast = table_asset(
    "gold",
    "fct_sales_forecast",
    sales_forecast,
    description="Next 30 days of sales from a least-squares model on trend and day of week "
    "(seed 000); the model's error on a held-out window is in the metadata.",
)
fct_finance_daily = table_asset(
    "gold",
    "fct_finance_daily",
    marts.fct_finance_daily,
    description="Finance mart (seed 000) by order date, category and payment method: revenue, "
    "tax, discounts, profit, refunds, credit-card revenue.",
)

sales_assets = [sales_by_order_date, fct_sales_forecast, fct_finance_daily]
