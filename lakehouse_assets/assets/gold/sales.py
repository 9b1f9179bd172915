"""Gold sales marts: the tables merged per landing day, the sales forecast, and the finance
mart.

One step, ``orders_touched_by_day``, writes the tables keyed by what a landing day's orders
touch: ``fct_daily_sales`` and ``fct_user_daily_spend`` (keyed by order date) and the
per-customer summary ``silver.int_customer_summary``. A run of landing date D recomputes
exactly the order dates and customers that D's orders and items touch (a status change
landing on D updates its order's date and customer, wherever they are) and upserts them; the
cost follows the day, not the history. A correction that moves an order off a date or a
customer (a fixed order date, a dropped line) is found by comparing with silver as the
tables' last computation saw it (Delta time travel to the silver versions their last commits
recorded), so what it left is recomputed too. Without that record (a first run), everything
is computed.
"""

from dagster import AssetKey, MetadataValue, Output
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import Table, step, table_asset, with_layer_metadata
from lakehouse_assets.resources.delta_io_manager import (
    COMMIT_METADATA,
    commit_record,
    last_commit,
    read_table,
    table_exists,
    window_predicate,
)
from lakehouse_assets.transforms import forecast, intermediate, marts, sales
from lakehouse_assets.transforms.incremental import (
    TOUCHED_COLUMNS,
    SilverOrders,
    orders_on_touched_dates,
    touched_orders,
)

# The silver tables all three are computed from (read at pinned Delta versions), and the tables.
SOURCES = ("stg_orders", "stg_order_items")
ORDER_SOURCES = [f"silver.{t}" for t in SOURCES]
TABLES = (
    Table("gold", "fct_daily_sales"),
    Table("gold", "fct_user_daily_spend"),
    Table("silver", "int_customer_summary"),
)
# The key of the silver versions in the record each commit of the tables keeps.
COMPUTED_FROM = "computed_from_silver_versions"


def _user_daily_spend(touched, customer_orders) -> DataFrame:
    # Every touched (customer, day) gets a row, zero when its orders were cancelled since.
    pairs = (
        touched.where("customer_id IS NOT NULL AND order_date IS NOT NULL")
        .select("customer_id", "order_date").distinct()
    )
    spend = sales.fct_user_daily_spend(customer_orders)
    return pairs.join(spend, ["customer_id", "order_date"], "left").select(
        "customer_id",
        "order_date",
        F.coalesce("total_spend", sales.money(F.lit(0))).alias("total_spend"),
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
    )


def _customer_summary(touched: DataFrame, current: SilverOrders) -> DataFrame:
    """The summary of every touched customer from all their orders; a customer without a
    completed order any more gets ``order_count`` 0, which removes its row."""
    customers = touched.where("customer_id IS NOT NULL").select("customer_id").distinct()
    orders = current.orders.join(customers, "customer_id", "left_semi")
    items = current.items.join(orders.select("order_id"), "order_id", "left_semi")
    summary = intermediate.customer_summary(intermediate.int_customer_orders(orders, items))
    return customers.join(summary, "customer_id", "left").select(
        "customer_id",
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
        *[c for c in summary.columns if c not in ("customer_id", "order_count")],
    )


@step(
    "orders_touched_by_day",
    TABLES,
    # Silver is read at pinned Delta versions (and the versions last computed from), not as
    # loaded inputs.
    deps=[AssetKey(["silver", t]) for t in SOURCES],
    partitioned=True,
)
def orders_touched_by_day(context) -> dict:
    """The three tables for the order dates and customers the run's landing days touch, from
    one read of silver."""
    session = context.resources.spark.spark_session
    storage = context.resources.storage
    window = context.partition_time_window
    versions = {t: last_commit(session, storage.table_path("silver", t))[0] for t in SOURCES}
    current = _silver_orders(session, storage, versions, window)
    previous = _silver_last_computed_from(session, storage, window)
    if previous is None:
        # First run, or a table whose last commit does not say what it was computed from:
        # every order date and customer, plus every date, customer-day and customer the tables
        # hold.
        touched = _everything(session, storage, current)
    else:
        touched = touched_orders(current, previous)
    orders, items = orders_on_touched_dates(touched, current.orders, current.items)
    customer_orders = intermediate.int_customer_orders(orders, items)
    # Each commit records which silver versions its rows reflect: the next run diffs with them.
    metadata = {COMMIT_METADATA: MetadataValue.json({COMPUTED_FROM: versions})}
    return {
        "fct_daily_sales": Output(with_layer_metadata(
            sales.fct_daily_sales(customer_orders, items, order_dates=touched), "gold",
            ORDER_SOURCES,
        ), metadata=metadata),
        "fct_user_daily_spend": Output(with_layer_metadata(
            _user_daily_spend(touched, customer_orders), "gold", ORDER_SOURCES
        ), metadata=metadata),
        "int_customer_summary": Output(_customer_summary(touched, current), metadata=metadata),
    }


def _silver_orders(session, storage, versions: dict, window) -> SilverOrders:
    """stg_orders and stg_order_items at ``versions`` (Delta time travel), with their rows of
    the run's window."""
    orders, items = (
        session.read.format("delta").option("versionAsOf", int(versions[t]))
        .load(storage.table_path("silver", t))
        for t in SOURCES
    )
    landed = window_predicate("_landing_date", window.start, window.end)
    return SilverOrders(orders, items, orders.where(landed), items.where(landed))


def _silver_last_computed_from(session, storage, window) -> SilverOrders | None:
    """Silver as the tables' last commits were computed from it, if they agree on the
    versions and those are still readable (a vacuumed version is not)."""
    recorded = []
    for table in TABLES:
        path = storage.table_path(table.layer, table.name)
        if not table_exists(session, path):
            return None
        recorded.append(commit_record(last_commit(session, path)[1]).get(COMPUTED_FROM))
    versions = recorded[0]
    if not versions or any(r != versions for r in recorded) or set(versions) != set(SOURCES):
        return None
    try:
        previous = _silver_orders(session, storage, versions, window)
        for df in (previous.orders, previous.items):
            df.schema  # noqa: B018 - resolves the version now, not in a later job
    except Exception:  # noqa: BLE001 - e.g. vacuumed: recompute every date instead
        return None
    return previous


def _everything(session, storage, current: SilverOrders) -> DataFrame:
    """Every order of silver, and every order date, customer-day and customer the tables
    hold (which no order may have any more), as touched rows."""
    touched = current.orders.select(*TOUCHED_COLUMNS)
    none = F.lit(None).cast("string")
    held = {
        "fct_user_daily_spend": lambda t: t.select(none.alias("order_id"), "customer_id",
                                                   "order_date"),
        "fct_daily_sales": lambda t: t.select(none.alias("order_id"),
                                              none.alias("customer_id"), "order_date"),
        "int_customer_summary": lambda t: t.select(none.alias("order_id"), "customer_id",
                                                   F.lit(None).cast("date").alias("order_date")),
    }
    for table in TABLES:
        stored = read_table(session, storage.table_path(table.layer, table.name))
        if stored is not None:
            touched = touched.unionByName(held[table.name](stored))
    return touched.distinct()


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


fct_sales_forecast = table_asset("gold", "fct_sales_forecast", sales_forecast)
fct_finance_daily = table_asset("gold", "fct_finance_daily", marts.fct_finance_daily)

sales_assets = [orders_touched_by_day, fct_sales_forecast, fct_finance_daily]
