"""The tables merged per landing date (``assets.by_landing_day``), maintained by difference.

A landing day carries new orders and status changes of older ones, and order items of its
orders. The orders it touches are found (``touched_orders``), and what each contributed
before (silver as the tables' last computation saw it, ``previous``) and contributes now
(``order_contributions``) is read for those orders only. Sums and counts per order date and
per customer-day are the stored value plus the difference (``changes``); a customer's
summary is recomputed from its stored completed orders with the touched ones replaced. No
step reads the orders the day did not touch in silver. A correction that moves an order away
from a date or a customer (a fixed order date, a dropped line) is a difference like any other:
its previous version is subtracted where it was.

The finance mart splits orders by product category and allocates order money to lines, so its
rows are not sums of per-order numbers that could be added up exactly; instead every order date
it touches is recomputed from all the orders of that date (``finance_daily``). A date is
touched by a touched order, and by a product whose category or cost changed, through every
order with a line of that product (``finance_dates``).

Without a previous computation, the same functions compute every table from nothing (no
stored values, no previous contributions).
"""

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.tables import table_spec
from lakehouse_assets.transforms import intermediate, marts, sales

TOUCHED_COLUMNS = ("order_id", "customer_id", "order_date")
SIGN = "_sign"


@dataclass(frozen=True)
class SilverOrders:
    """stg_orders, stg_order_items and stg_products at one version, and the orders' and items'
    rows of the run's window."""

    orders: DataFrame
    items: DataFrame
    orders_landed: DataFrame
    items_landed: DataFrame
    products: DataFrame


def _touched_in(state: SilverOrders) -> DataFrame:
    via_items = state.orders.join(
        state.items_landed.select("order_id").distinct(), "order_id", "left_semi"
    )
    return state.orders_landed.select(*TOUCHED_COLUMNS).unionByName(
        via_items.select(*TOUCHED_COLUMNS)
    )


def touched_orders(current: SilverOrders, previous: SilverOrders | None = None) -> DataFrame:
    """order_id, customer_id, order_date of the orders whose order or items landed in the
    window, as they are now and, for every such order now or before, as they were before."""
    touched = _touched_in(current)
    if previous is None:
        return touched.distinct()
    ids = touched.select("order_id").unionByName(_touched_in(previous).select("order_id"))
    before = previous.orders.join(ids.distinct(), "order_id", "left_semi")
    now = current.orders.join(ids.distinct(), "order_id", "left_semi")
    return (
        touched.unionByName(before.select(*TOUCHED_COLUMNS))
        .unionByName(now.select(*TOUCHED_COLUMNS))
        .distinct()
    )


def order_contributions(state: SilverOrders, ids: DataFrame | None = None) -> DataFrame:
    """What each completed order among ``ids`` (every order when None) adds to the tables:
    its ``int_customer_orders`` row, and ``units`` (its items' quantities; null without items).
    """
    orders, items = state.orders, state.items
    if ids is not None:
        orders = orders.join(ids, "order_id", "left_semi")
        items = items.join(ids, "order_id", "left_semi")
    units = items.groupBy("order_id").agg(F.sum("quantity").alias("units"))
    return intermediate.int_customer_orders(orders, items).join(units, "order_id", "left")


def changes(now: DataFrame, before: DataFrame | None) -> DataFrame:
    """The contributions now (``_sign`` +1) and before (-1): adding up ``_sign`` times a
    contribution changes a stored sum or count into the current one."""
    signed = now.withColumn(SIGN, F.lit(1))
    if before is None:
        return signed
    return signed.unionByName(before.withColumn(SIGN, F.lit(-1)))


def customer_orders(ids: DataFrame, now: DataFrame) -> DataFrame:
    """The touched orders that are completed, and a row without customer (which removes it)
    for each touched order that is not (any more)."""
    completed = now.drop("units")
    gone = ids.join(completed, "order_id", "left_anti")
    return completed.unionByName(gone, allowMissingColumns=True)


def customer_summary(
    customers: DataFrame, stored_orders: DataFrame | None, ids: DataFrame, now: DataFrame
) -> DataFrame:
    """The summary of every touched customer from all their completed orders: the stored
    ones the run did not touch and the touched ones as they are now. A customer without a
    completed order gets ``order_count`` 0, which removes its row."""
    orders = now.drop("units")
    if stored_orders is not None:
        kept = (
            stored_orders.join(customers, "customer_id", "left_semi")
            .join(ids, "order_id", "left_anti")
        )
        orders = kept.select(*orders.columns).unionByName(orders)
    summary = intermediate.customer_summary(orders)
    return customers.join(summary, "customer_id", "left").select(
        "customer_id",
        F.coalesce("order_count", F.lit(0).cast("long")).alias("order_count"),
        *[c for c in summary.columns if c not in ("customer_id", "order_count")],
    )


def user_daily_spend(pairs: DataFrame, stored: DataFrame | None, change: DataFrame) -> DataFrame:
    """``fct_user_daily_spend`` for the touched (customer, order date) pairs: the stored spend
    and orders plus the change (a pair whose orders were cancelled since keeps a row of
    zeros), and ``had_orders``: whether the pair had a completed order before the run."""
    keys = ["customer_id", "order_date"]
    per_pair = change.groupBy(*keys).agg(
        F.sum(F.col(SIGN) * F.col("order_total")).alias("spend_change"),
        F.sum(SIGN).alias("orders_change"),
    )
    spend = _with_stored(pairs, stored, {"total_spend": sales.MONEY, "order_count": "long"})
    return spend.join(per_pair, keys, "left").select(
        *keys,
        sales.money(_plus("total_spend", "spend_change")).alias("total_spend"),
        _plus("order_count", "orders_change").cast("long").alias("order_count"),
        (F.coalesce("order_count", F.lit(0)) > 0).alias("had_orders"),
    )


def daily_sales(
    dates: DataFrame, stored: DataFrame | None, change: DataFrame, spend: DataFrame
) -> DataFrame:
    """``fct_daily_sales`` for the touched order dates: the stored counts and sums plus the
    change; unique customers change by the pairs of ``spend`` (``user_daily_spend``) that
    start or stop having a completed order."""
    per_date = change.groupBy("order_date").agg(
        F.sum(SIGN).alias("orders_change"),
        F.sum(F.col(SIGN) * F.col("order_total")).alias("sales_change"),
        F.sum(F.col(SIGN) * F.coalesce("units", F.lit(0))).alias("units_change"),
    )
    buying = (F.col("order_count") > 0).cast("int") - F.col("had_orders").cast("int")
    customers = spend.groupBy("order_date").agg(F.sum(buying).alias("customers_change"))
    daily = _with_stored(dates, stored, {
        "order_count": "long", "total_sales": sales.MONEY, "units_sold": "long",
        "unique_customers": "long",
    })
    return sales.daily_sales_columns(
        daily.join(per_date, "order_date", "left").join(customers, "order_date", "left").select(
            "order_date",
            _plus("order_count", "orders_change").alias("order_count"),
            _plus("total_sales", "sales_change").alias("total_sales"),
            _plus("units_sold", "units_change").alias("units_sold"),
            _plus("unique_customers", "customers_change").alias("unique_customers"),
        )
    )


def _with_stored(keys: DataFrame, stored: DataFrame | None, columns: dict) -> DataFrame:
    """``keys`` with the stored values of ``columns`` (name -> type), null where none is."""
    on = keys.columns
    if stored is None:
        return keys.select(*on, *[F.lit(None).cast(t).alias(c) for c, t in columns.items()])
    return keys.join(stored.select(*on, *columns), on, "left")


def _plus(stored: str, change: str) -> Column:
    return F.coalesce(F.col(stored), F.lit(0)) + F.coalesce(F.col(change), F.lit(0))


def finance_dates(
    touched: DataFrame, current: SilverOrders, previous: SilverOrders | None
) -> DataFrame:
    """The order dates whose finance rows the run recomputes: those of the touched orders,
    and those of every order with a line of a product whose order-line columns (category,
    cost, ...) changed since ``previous``."""
    dates = touched.select("order_date")
    # The same frame in both states: silver's products did not change (the same Delta version).
    if previous is not None and previous.products is not current.products:
        now, before = (s.products.select(*sales.PRODUCT_COLUMNS) for s in (current, previous))
        changed = now.exceptAll(before).unionByName(before.exceptAll(now)).select("product_id")
        lines = current.items.join(changed, "product_id", "left_semi").select("order_id")
        dates = dates.unionByName(
            current.orders.join(lines, "order_id", "left_semi").select("order_date")
        )
    return dates.dropna().distinct()


def finance_daily(dates: DataFrame, current: SilverOrders, stored: DataFrame | None) -> DataFrame:
    """``fct_finance_daily`` for ``dates``, from every order of those dates as it is now. A
    stored row of those dates that no longer has a line comes back without
    ``transaction_count``, which removes it."""
    orders = current.orders.join(F.broadcast(dates), "order_date", "left_semi")
    items = current.items.join(orders.select("order_id"), "order_id", "left_semi")
    rows = marts.fct_finance_daily(orders, items, current.products)
    if stored is None:
        return rows
    keys = list(table_spec("gold.fct_finance_daily").keys)
    gone = stored.join(dates, "order_date", "left_semi").select(*keys).join(rows, keys, "left_anti")
    return rows.unionByName(gone, allowMissingColumns=True)
