"""The tables merged per landing day for what the day's orders touch.

One step, ``orders_touched_by_day``, writes the tables whose rows belong to an order, an order
date or a customer: ``silver.int_customer_orders`` (per order), ``silver.int_customer_summary``
(per customer), ``gold.fct_daily_sales`` and ``gold.fct_finance_daily`` (per order date) and
``gold.fct_user_daily_spend`` (per customer and order date). A run of landing date D finds the
orders that D's orders and items touch (a status change landing on D touches its order,
wherever its date is), reads those orders in silver as they are now and as the tables' last
computation saw them (Delta time travel to the silver versions the tables' last commits
recorded), and upserts the touched keys: sums and counts are the stored values plus the
difference, a touched customer's summary is recomputed from its stored completed orders, a
touched order date's finance rows from that date's orders (a product whose category or cost
changed touches the dates of its orders). The cost follows the day, not the history. An order
that is no longer completed leaves ``int_customer_orders``, a customer without a completed
order leaves the summary, a finance row without lines leaves the mart.

Without that record (a first run, or a table restored to a version that does not say what
it was computed from), every table is computed from silver.
"""

from dataclasses import dataclass

from dagster import AssetKey, MetadataValue, Output
from pyspark.sql import DataFrame

from lakehouse_assets.assets.factory import Table, cached_for_step, step, with_layer_metadata
from lakehouse_assets.resources.delta_io_manager import (
    COMMIT_METADATA,
    commit_record,
    last_commit,
    read_table,
    table_exists,
    window_predicate,
)
from lakehouse_assets.transforms import incremental
from lakehouse_assets.transforms.incremental import TOUCHED_COLUMNS, SilverOrders

# The silver tables the step reads (at pinned Delta versions), and the tables it writes.
SOURCES = ("stg_orders", "stg_order_items", "stg_products")
ORDER_SOURCES = ["silver.stg_orders", "silver.stg_order_items"]
TABLES = (
    Table("silver", "int_customer_orders"),
    Table("silver", "int_customer_summary"),
    Table("gold", "fct_daily_sales"),
    Table("gold", "fct_user_daily_spend"),
    Table("gold", "fct_finance_daily"),
)
# The key of the silver versions in the record each commit of the tables keeps.
COMPUTED_FROM = "computed_from_silver_versions"


@step(
    "orders_touched_by_day",
    TABLES,
    # Silver is read at pinned Delta versions (and the versions last computed from), not as
    # loaded inputs.
    deps=[AssetKey(["silver", t]) for t in SOURCES],
    partitioned=True,
)
def orders_touched_by_day(context) -> dict:
    """The tables for the orders, order dates and customers the run's landing days touch:
    their stored values changed by what the touched orders contributed before and contribute
    now; the finance rows of the touched order dates recomputed."""
    session = context.resources.spark.spark_session
    storage = context.resources.storage
    window = context.partition_time_window
    versions = {t: last_commit(session, storage.table_path("silver", t))[0] for t in SOURCES}
    loaded: dict = {}  # (table, version) -> DataFrame: a version is read once
    current = _silver_orders(session, storage, versions, window, loaded)
    stored = _last_computation(session, storage, window, loaded)
    if stored is None:
        # First run, or a table whose last commit does not say what it was computed from:
        # every table from nothing, for every order of silver and every key the tables hold.
        as_stored = {
            t.name: read_table(session, storage.table_path(t.layer, t.name)) for t in TABLES
        }
        touched = _everything(current, as_stored)
    else:
        as_stored = stored.tables
        touched = incremental.touched_orders(current, stored.previous)
    # Several outputs read each of these: computed once, not once per output.
    touched = cached_for_step(touched)
    ids = touched.where("order_id IS NOT NULL").select("order_id").distinct()
    now = cached_for_step(
        incremental.order_contributions(current, ids if stored else None)
    )
    before = incremental.order_contributions(stored.previous, ids) if stored else None
    change = incremental.changes(now, before)
    spend = cached_for_step(incremental.user_daily_spend(
        _distinct(touched, "customer_id", "order_date"),
        stored.tables["fct_user_daily_spend"] if stored else None,
        change,
    ))
    # Each commit records which silver versions its rows reflect: the next run diffs with them.
    metadata = {COMMIT_METADATA: MetadataValue.json({COMPUTED_FROM: versions})}

    def gold(df: DataFrame, sources: list[str] = ORDER_SOURCES) -> DataFrame:
        return with_layer_metadata(df, "gold", sources)

    outputs = {
        "int_customer_orders": incremental.customer_orders(ids, now),
        "int_customer_summary": incremental.customer_summary(
            _distinct(touched, "customer_id"),
            stored.tables["int_customer_orders"] if stored else None,
            ids,
            now,
        ),
        "fct_daily_sales": gold(incremental.daily_sales(
            _distinct(touched, "order_date"),
            stored.tables["fct_daily_sales"] if stored else None,
            change,
            spend,
        )),
        "fct_user_daily_spend": gold(spend.drop("had_orders")),
        "fct_finance_daily": gold(
            incremental.finance_daily(
                incremental.finance_dates(touched, current, stored.previous if stored else None),
                current,
                # From nothing too, the table as stored (if any): its dates that silver no
                # longer has lose their rows.
                as_stored["fct_finance_daily"],
            ),
            [f"silver.{t}" for t in SOURCES],
        ),
    }
    return {table: Output(df, metadata=metadata) for table, df in outputs.items()}


def _distinct(touched: DataFrame, *columns: str) -> DataFrame:
    """The distinct values of ``columns`` among the touched rows, none of them null."""
    return touched.select(*columns).dropna().distinct()


@dataclass(frozen=True)
class LastComputation:
    """Silver as the tables' last commits were computed from it, and the tables as those
    commits left them (pinned to their versions: the step's own writes do not move them)."""

    previous: SilverOrders
    tables: dict[str, DataFrame]


def _silver_orders(session, storage, versions: dict, window, loaded: dict) -> SilverOrders:
    """The silver sources at ``versions`` (Delta time travel), with the orders' and items' rows
    of the run's window. A version already in ``loaded`` is the same DataFrame, not read
    again (silver's products, usually unchanged by a day, are then one frame in both states)."""
    for t in SOURCES:
        if (t, versions[t]) not in loaded:
            loaded[t, versions[t]] = _at_version(
                session, storage.table_path("silver", t), versions[t]
            )
    orders, items, products = (loaded[t, versions[t]] for t in SOURCES)
    landed = window_predicate("_landing_date", window.start, window.end)
    return SilverOrders(orders, items, orders.where(landed), items.where(landed), products)


def _last_computation(session, storage, window, loaded: dict) -> LastComputation | None:
    """The last computation, if every table's last commit records the same silver versions
    and those are still readable (a vacuumed version is not)."""
    recorded, tables = [], {}
    for table in TABLES:
        path = storage.table_path(table.layer, table.name)
        if not table_exists(session, path):
            return None
        version, commit = last_commit(session, path)
        recorded.append(commit_record(commit).get(COMPUTED_FROM))
        tables[table.name] = _at_version(session, path, version)
    versions = recorded[0]
    if not versions or any(r != versions for r in recorded) or set(versions) != set(SOURCES):
        return None
    try:
        previous = _silver_orders(session, storage, versions, window, loaded)
        for df in (previous.orders, previous.items, previous.products):
            df.schema  # noqa: B018 - resolves the version now, not in a later job
    except Exception:  # noqa: BLE001 - e.g. vacuumed: recompute everything instead
        return None
    return LastComputation(previous, tables)


def _at_version(session, path: str, version: int) -> DataFrame:
    return session.read.format("delta").option("versionAsOf", int(version)).load(path)


def _everything(current: SilverOrders, as_stored: dict[str, DataFrame | None]) -> DataFrame:
    """Every order of silver, and every order, order date, customer-day and customer the
    tables hold as stored (``as_stored``: None for a table not written yet; silver may not
    have those keys any more), as touched rows."""
    touched = current.orders.select(*TOUCHED_COLUMNS)
    for stored in as_stored.values():
        if stored is not None:
            touched = touched.unionByName(
                stored.select(*[c for c in TOUCHED_COLUMNS if c in stored.columns]),
                allowMissingColumns=True,
            )
    return touched.distinct()


by_landing_day_assets = [orders_touched_by_day]
