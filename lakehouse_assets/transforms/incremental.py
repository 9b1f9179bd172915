"""Which orders, order dates and customers a landing day touches, for the tables merged per
landing date (``assets.by_landing_day``).

A landing day carries new orders and status changes of older ones, and order items of its
orders; every order, order date and customer they belong to must be recomputed, and nothing
else. A correction can also move an order away from a date or a customer (a fixed order
date, a dropped line): what its previous version counted towards is recomputed too, from
silver as the last computation of the tables saw it (``previous``).
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


def orders_to_recompute(
    touched: DataFrame, stg_orders: DataFrame, stg_order_items: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """The silver orders on the touched order dates or of the touched customers, and their
    items: the inputs to recompute every touched order, order date and customer."""
    on_dates = stg_orders.join(
        touched.select("order_date").where("order_date IS NOT NULL").distinct(),
        "order_date", "left_semi",
    )
    of_customers = stg_orders.join(
        touched.select("customer_id").where("customer_id IS NOT NULL").distinct(),
        "customer_id", "left_semi",
    )
    orders = on_dates.unionByName(of_customers).dropDuplicates(["order_id"])
    items = stg_order_items.join(orders.select("order_id"), "order_id", "left_semi")
    return orders, items
