"""Which order dates a landing day touches, for the gold tables merged per landing date.

A landing day carries new orders and status changes of older ones, and order items of its
orders; every order date they belong to must be recomputed, and nothing else. A correction
can also move an order away from a date (a fixed order date, a dropped line): the dates its
previous version counted towards are recomputed too, from silver as the last computation of
the table saw it (``previous``).
"""

from dataclasses import dataclass

from pyspark.sql import DataFrame

TOUCHED_COLUMNS = ("order_id", "customer_id", "order_date")


@dataclass(frozen=True)
class SilverOrders:
    """stg_orders and stg_order_items at one version, and their rows of the run's window."""

    orders: DataFrame
    items: DataFrame
    orders_landed: DataFrame
    items_landed: DataFrame


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


def orders_on_touched_dates(
    touched: DataFrame, stg_orders: DataFrame, stg_order_items: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """All silver orders and items on the touched order dates (the inputs to recompute them)."""
    dates = touched.select("order_date").distinct()
    orders = stg_orders.join(dates, "order_date", "left_semi")
    items = stg_order_items.join(orders.select("order_id"), "order_id", "left_semi")
    return orders, items
