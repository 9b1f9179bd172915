"""The tables merged per landing day for what the day's orders touch.

One step, ``orders_touched_by_day``, writes the tables whose rows belong to an order, an order
date or a customer: ``silver.int_customer_orders`` (per order), ``silver.int_customer_summary``
(per customer), ``gold.fct_daily_sales`` (per order date) and ``gold.fct_user_daily_spend``
(per customer and order date). A run of landing date D recomputes exactly the orders, order
dates and customers that D's orders and items touch (a status change landing on D updates
its order, date and customer, wherever they are) and upserts them; the cost follows the day,
not the history. An order that is no longer completed leaves ``int_customer_orders``, a
customer without a completed order leaves the summary.

A correction that moves an order off a date or a customer (a fixed order date, a dropped
line) is found by comparing with silver as the tables' last computation saw it (Delta time
travel to the silver versions their last commits recorded), so what it left is recomputed
too. Without that record (a first run), everything is computed.
"""

from dagster import AssetKey, MetadataValue, Output
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.assets.factory import Table, cached_for_step, step, with_layer_metadata
from lakehouse_assets.resources.delta_io_manager import (
    COMMIT_METADATA,
    commit_record,
    last_commit,
    read_table,
    table_exists,
    window_predicate,
)
from lakehouse_assets.transforms import intermediate, sales
from lakehouse_assets.transforms.incremental import (
    TOUCHED_COLUMNS,
    SilverOrders,
    orders_to_recompute,
    touched_orders,
)

# The silver tables all four are computed from (read at pinned Delta versions), and the tables.
SOURCES = ("stg_orders", "stg_order_items")
ORDER_SOURCES = [f"silver.{t}" for t in SOURCES]
TABLES = (
    Table("silver", "int_customer_orders"),
    Table("silver", "int_customer_summary"),
    Table("gold", "fct_daily_sales"),
    Table("gold", "fct_user_daily_spend"),
)
# The key of the silver versions in the record each commit of the tables keeps.
COMPUTED_FROM = "computed_from_silver_versions"


def _customer_orders(touched: DataFrame, customer_orders: DataFrame) -> DataFrame:
    """The touched orders that are completed, and a row without customer (which removes it)
    for each touched order that is not (any more)."""
    ids = touched.where("order_id IS NOT NULL").select("order_id").distinct()
    completed = customer_orders.join(ids, "order_id", "left_semi")
    gone = ids.join(customer_orders, "order_id", "left_anti")
    return completed.unionByName(gone, allowMissingColumns=True)


def _customer_summary(touched: DataFrame, customer_orders: DataFrame) -> DataFrame:
    """The summary of every touched customer from all their completed orders; a customer
    without one gets ``order_count`` 0, which removes its row."""
    customers = touched.where("customer_id IS NOT NULL").select("customer_id").distinct()
    summary = intermediate.customer_summary(
        customer_orders.join(customers, "customer_id", "left_semi")
    )
    return customers.join(summary, "customer_id", "left").select(
        "customer_id",
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
        *[c for c in summary.columns if c not in ("customer_id", "order_count")],
    )


def _user_daily_spend(touched: DataFrame, customer_orders: DataFrame) -> DataFrame:
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


@step(
    "orders_touched_by_day",
    TABLES,
    # Silver is read at pinned Delta versions (and the versions last computed from), not as
    # loaded inputs.
    deps=[AssetKey(["silver", t]) for t in SOURCES],
    partitioned=True,
)
def orders_touched_by_day(context) -> dict:
    """The four tables for the orders, order dates and customers the run's landing days
    touch, from one read of silver."""
    session = context.resources.spark.spark_session
    storage = context.resources.storage
    window = context.partition_time_window
    versions = {t: last_commit(session, storage.table_path("silver", t))[0] for t in SOURCES}
    current = _silver_orders(session, storage, versions, window)
    previous = _silver_last_computed_from(session, storage, window)
    if previous is None:
        # First run, or a table whose last commit does not say what it was computed from:
        # every order, plus every order, date, customer-day and customer the tables hold.
        touched = _everything(session, storage, current)
    else:
        touched = touched_orders(current, previous)
    # Every output reads both: computed once, not once per output.
    touched = cached_for_step(touched)
    orders, items = orders_to_recompute(touched, current.orders, current.items)
    customer_orders = cached_for_step(intermediate.int_customer_orders(orders, items))
    # Each commit records which silver versions its rows reflect: the next run diffs with them.
    metadata = {COMMIT_METADATA: MetadataValue.json({COMPUTED_FROM: versions})}

    def gold(df: DataFrame) -> DataFrame:
        return with_layer_metadata(df, "gold", ORDER_SOURCES)

    outputs = {
        "int_customer_orders": _customer_orders(touched, customer_orders),
        "int_customer_summary": _customer_summary(touched, customer_orders),
        "fct_daily_sales": gold(
            sales.fct_daily_sales(customer_orders, items, order_dates=touched)
        ),
        "fct_user_daily_spend": gold(_user_daily_spend(touched, customer_orders)),
    }
    return {table: Output(df, metadata=metadata) for table, df in outputs.items()}


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
    except Exception:  # noqa: BLE001 - e.g. vacuumed: recompute everything instead
        return None
    return previous


def _everything(session, storage, current: SilverOrders) -> DataFrame:
    """Every order of silver, and every order, order date, customer-day and customer the
    tables hold (which silver may not have any more), as touched rows."""
    touched = current.orders.select(*TOUCHED_COLUMNS)
    for table in TABLES:
        stored = read_table(session, storage.table_path(table.layer, table.name))
        if stored is not None:
            touched = touched.unionByName(
                stored.select(*[c for c in TOUCHED_COLUMNS if c in stored.columns]),
                allowMissingColumns=True,
            )
    return touched.distinct()


by_landing_day_assets = [orders_touched_by_day]
