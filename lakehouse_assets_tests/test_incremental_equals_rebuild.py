"""Incremental equals rebuild: a lakehouse built one landing day per Dagster run holds the
same silver, gold and ML tables, row for row, as one built from scratch in a single run over
the final landing zone. The same delivery sequence proves, by hand, what the single deliveries
must do (late status changes, rejected orders and their items, backfills, re-runs).

The delivery sequence (``DELIVERIES``) is built into lakehouse A one step per run, each step
writing that day's files into the landing zone first:

1. 2024-03-01  customers (one with an invalid email: quarantined), products, orders (one
               dated the day before, 02-29), items (one negative quantity: quarantined)
2. 2024-03-02  orders (o201 pending, a guest order g201 without customer and an order o299
               dated 9999-12-31: both quarantined with their items), items; the items of
               o202 are NOT in this delivery
3. 2024-03-03  a customer's new email, a new customer, new orders (o303 with a mistyped
               order date 03-01), o203 re-sent as cancelled by mistake, the items of the
               previous day's o202 (items landing a day after their order)
4. 2024-03-04  late status changes: o201 (placed 03-02) pending -> completed, o103 (placed
               03-01) completed -> cancelled; a product's new list price, cost and category
               (which changes the finance rows of 03-03, a date no order of the day
               touches); new orders
5. 2024-03-05  the guest order g201 (placed 03-02) re-sent with its customer (its item,
               landed 03-02, returns to silver); new orders
6. 2024-03-03  RE-DELIVERED: the 03-03 orders and items files replaced in place by corrected
               versions (a changed shipping cost, o303's order date fixed to 03-03, the
               mistaken o203 cancellation removed, an item line removed, an item's quantity
               and price changed, a new order with items); the customers file is identical
7. 2024-03-06  new orders (one pending), a header-only customers file, and the
               cancellation of o301, c8's only completed order (c8 has no completed order
               left: its rows in the per-customer summary and marts must go)
8. 2024-02-28  OUT-OF-ORDER BACKFILL, older than every built date: an older email of c1 and
               an older status (pending) of o104, which must both lose to the newer
               versions, a new customer and a new order

Then 2024-02-28 is run once more with nothing new: no row of silver or daily sales changes.

Lakehouse B is then built in one run over 2024-02-28..2024-03-06 from the final landing zone.
Every Delta table under silver/, gold/ and ml/ (except gold.data_quality_summary, which is
per-run history) and the ML Parquet export must hold the same rows in A and B, apart from
the audit columns that say when and by which run a row was written.

Products p1 and p2 are bought together in more than five completed orders, so
gold.fct_product_pairs is not empty.

Both lakehouses are built once for the module (``built``); each test reads them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections import Counter
from decimal import Decimal

import pytest
from dagster import DagsterEvent, DagsterEventType

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.defs.automation import build_lakehouse_job
from lakehouse_assets.partitions import RANGE_END, RANGE_START
from lakehouse_assets.resources import DeltaSparkIOManager, LakehouseStorage, build_resources
from lakehouse_assets.resources.delta_io_manager import AUDIT_COLUMNS
from lakehouse_assets.transforms.silver import ENTITY_SPECS, build_silver

# --- the landing zone --------------------------------------------------------------------------
CUSTOMERS = "customer_id,email,first_name,last_name,country,created_at,city,age\n"
PRODUCTS = "product_id,product_name,category,cost_price,list_price,department\n"
ORDERS = "order_id,customer_id,order_date,status,shipping_cost,payment_method\n"
ITEMS = "order_item_id,order_id,product_id,quantity,unit_price\n"

D0, D1, D2, D3, D4, D5, D6 = (
    "2024-02-28", "2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05",
    "2024-03-06",
)

DAY1 = {
    "customers": CUSTOMERS
    + "c1,ann@example.com,ann,lee,us,2024-01-05,Boston,34\n"
    "c2,ben@example.com,ben,ray,us,2024-01-06,Denver,41\n"
    "c3,cat@example.com,cat,kim,ca,2024-01-07,Toronto,29\n"
    "c4,dan@example.com,dan,oh,us,2024-01-08,,\n"
    "c5,eve@example.com,eve,ng,gb,2024-01-09,London,52\n"
    "c6,fay@example.com,fay,wu,us,2024-01-10,Austin,23\n"
    # No '@': quarantined as invalid_email; c7 places no order.
    "c7,not-an-email,gus,ali,us,2024-01-11,Miami,38\n",
    "products": PRODUCTS
    + "p1,Mug,Kitchen,4.00,10.00,Home\n"
    "p2,Coaster,Kitchen,10.00,25.00,Home\n"
    "p3,Lamp,Lighting,18.00,40.00,Home\n"
    "p4,Notebook,Stationery,5.00,15.00,\n"
    "p5,Pen,Stationery,2.00,8.00,Office\n",
    "orders": ORDERS
    + "o101,c1,2024-03-01,completed,5.00,card\n"
    "o102,c2,2024-03-01,completed,0.00,paypal\n"
    "o103,c3,2024-03-01,completed,4.50,card\n"
    # Placed the day before it landed.
    "o104,c4,2024-02-29,completed,0.00,card\n",
    "order_items": ITEMS
    + "i1011,o101,p1,2,10.00\n"
    "i1012,o101,p2,1,25.00\n"
    # A cancellation line: quarantined as non_positive_quantity.
    "i1013,o101,p4,-1,15.00\n"
    "i1021,o102,p1,1,10.00\n"
    "i1022,o102,p2,1,25.00\n"
    "i1031,o103,p1,1,10.00\n"
    "i1032,o103,p2,2,25.00\n"
    "i1041,o104,p3,1,40.00\n",
}

DAY2 = {
    "orders": ORDERS
    + "o201,c1,2024-03-02,pending,5.00,card\n"
    "o202,c5,2024-03-02,completed,0.00,paypal\n"
    "o203,c6,2024-03-02,completed,3.00,card\n"
    # A guest checkout: quarantined (missing:customer_id), its item with it.
    "g201,,2024-03-02,completed,0.00,card\n"
    # An impossible order date: quarantined (out of range, in the future), its item with it.
    "o299,c2,9999-12-31,completed,0.00,card\n",
    # o202's items land the next day.
    "order_items": ITEMS
    + "i2011,o201,p1,1,10.00\n"
    "i2012,o201,p2,1,25.00\n"
    "i2031,o203,p1,3,10.00\n"
    "i2032,o203,p2,1,25.00\n"
    "i2033,o203,p5,1,8.00\n"
    "i2091,g201,p4,2,15.00\n"
    "i2991,o299,p1,1,10.00\n",
}

DAY3_CUSTOMERS = (
    CUSTOMERS
    # c2's new email (a re-sent record wins by its later landing date).
    + "c2,ben.ray@example.com,ben,ray,us,2024-01-06,Denver,41\n"
    "c8,hal@example.com,hal,bo,us,2024-03-02,Seattle,45\n"
)

DAY3 = {
    "customers": DAY3_CUSTOMERS,
    "orders": ORDERS
    + "o301,c8,2024-03-03,completed,5.00,card\n"
    "o302,c2,2024-03-03,completed,0.00,paypal\n"
    # Mistyped order date (corrected to 2024-03-03 in the re-delivery).
    "o303,c3,2024-03-01,completed,0.00,card\n"
    # Sent by mistake (removed in the re-delivery): o203 stays completed.
    "o203,c6,2024-03-02,cancelled,3.00,card\n",
    "order_items": ITEMS
    # The items of o202 (ordered and landed on 03-02).
    + "i2021,o202,p1,1,10.00\n"
    "i2022,o202,p2,1,25.00\n"
    "i3011,o301,p1,2,10.00\n"
    "i3012,o301,p2,2,25.00\n"
    "i3021,o302,p3,1,40.00\n"
    "i3022,o302,p4,1,15.00\n"
    "i3031,o303,p5,4,8.00\n",
}

DAY4 = {
    # p3's new list price, cost (18.00 -> 20.00) and category (Lighting -> Lamps).
    "products": PRODUCTS + "p3,Lamp,Lamps,20.00,45.00,Home\n",
    "orders": ORDERS
    # Late status changes of orders placed on earlier days.
    + "o201,c1,2024-03-02,completed,5.00,card\n"
    "o103,c3,2024-03-01,cancelled,4.50,card\n"
    "o401,c5,2024-03-04,completed,0.00,card\n"
    "o402,c1,2024-03-04,completed,2.00,paypal\n",
    "order_items": ITEMS
    + "i4011,o401,p1,1,10.00\n"
    "i4012,o401,p2,1,25.00\n"
    "i4021,o402,p3,2,45.00\n",
}

DAY5 = {
    "orders": ORDERS
    # The guest order of 03-02, re-sent with its customer.
    + "g201,c6,2024-03-02,completed,0.00,card\n"
    "o501,c2,2024-03-05,completed,0.00,paypal\n",
    "order_items": ITEMS
    + "i5011,o501,p1,1,10.00\n"
    "i5012,o501,p2,1,25.00\n"
    "i5013,o501,p5,2,8.00\n",
}

# The 03-03 orders and items files, corrected and replaced in place (same file names).
DAY3_CORRECTED = {
    "customers": DAY3_CUSTOMERS,  # identical bytes: unchanged
    "orders": ORDERS
    + "o301,c8,2024-03-03,completed,6.50,card\n"  # shipping 5.00 -> 6.50
    "o302,c2,2024-03-03,completed,0.00,paypal\n"
    "o303,c3,2024-03-03,completed,0.00,card\n"  # order date 03-01 -> 03-03
    # (the mistaken o203 cancellation is gone)
    "o304,c4,2024-03-03,completed,0.00,card\n",  # a new order
    "order_items": ITEMS
    + "i2021,o202,p1,1,10.00\n"
    "i2022,o202,p2,1,25.00\n"
    "i3011,o301,p1,2,10.00\n"
    "i3012,o301,p2,2,25.00\n"
    "i3021,o302,p3,1,40.00\n"
    # (i3022 is gone)
    "i3031,o303,p5,3,8.50\n"  # 4 x 8.00 -> 3 x 8.50
    "i3041,o304,p1,1,10.00\n"
    "i3042,o304,p2,1,25.00\n",
}

DAY6 = {
    "customers": CUSTOMERS,  # a day without new customers: header only
    "orders": ORDERS
    + "o601,c4,2024-03-06,completed,1.00,card\n"
    "o602,c8,2024-03-06,pending,0.00,paypal\n"
    # c8's only completed order is cancelled: c8 leaves every per-customer table of buyers.
    "o301,c8,2024-03-03,cancelled,6.50,card\n",
    "order_items": ITEMS
    + "i6011,o601,p2,1,25.00\n"
    "i6012,o601,p5,1,8.00\n"
    "i6021,o602,p1,1,10.00\n",
}

# Delivered last, older than every landing date already built.
DAY0_BACKFILL = {
    "customers": CUSTOMERS
    # Older than c1's version of 03-01: must lose.
    + "c1,ann.old@example.com,ann,lee,us,2024-01-05,Boston,34\n"
    "c9,ida@example.com,ida,fox,us,2024-02-20,Chicago,61\n",
    "orders": ORDERS
    # Older than o104's version of 03-01 (completed): must lose.
    + "o104,c4,2024-02-29,pending,0.00,card\n"
    "o001,c9,2024-02-28,completed,2.50,card\n",
    "order_items": ITEMS + "i0011,o001,p1,1,10.00\ni0012,o001,p2,1,25.00\n",
}

# (what happens, landing date, files of that date written before its run)
DELIVERIES = [
    ("first day", D1, DAY1),
    ("o201 pending, guest order, o202 without items", D2, DAY2),
    ("new email, o202's items, o303 mistyped, o203 cancelled by mistake", D3, DAY3),
    ("late status changes o201 -> completed, o103 -> cancelled", D4, DAY4),
    ("guest order fixed", D5, DAY5),
    ("03-03 files corrected in place, 03-03 re-run", D3, DAY3_CORRECTED),
    ("new day", D6, DAY6),
    ("out-of-order backfill of 02-28", D0, DAY0_BACKFILL),
]

FIRST, LAST = D0, D6


def _land(landing: str, day: str, files: dict[str, str]) -> None:
    """Write (or replace in place) ``<landing>/<dataset>/<day>/<dataset>.csv``; the file
    appears complete under its final name (written beside it, then renamed)."""
    for dataset, text in files.items():
        folder = os.path.join(landing, dataset, day)
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, f"{dataset}.csv")
        with open(target + ".part", "w", newline="", encoding="utf-8") as f:
            f.write(text)
        os.replace(target + ".part", target)


class Lakehouse:
    """A lakehouse root over a landing zone, built by real runs of the build_lakehouse job."""

    def __init__(self, spark, root: str, landing: str):
        self.spark = spark
        self.storage = LakehouseStorage(lakehouse_root=root, landing_root=landing)
        resources = build_resources(self.storage)
        # Keep the session's catalog entries (<layer>.<table>) on the seeded lakehouse.
        resources["io_manager"] = DeltaSparkIOManager(
            storage=self.storage, spark=resources["spark"], register_in_catalog=False
        )
        self.job = build_definitions(resources).resolve_job_def(build_lakehouse_job.name)
        self.timings: list[tuple[str, float]] = []

    def run(self, start: str, end: str, label: str) -> list[DagsterEvent]:
        """The run's events. Not its result: an in-process result keeps every output
        DataFrame, and with them each run's query plans and broadcast tables in the driver's
        heap (ten runs of the whole graph filled 2 GiB)."""
        began = time.monotonic()
        result = self.job.execute_in_process(
            tags={RANGE_START: start, RANGE_END: end}, raise_on_error=False
        )
        self.timings.append((label, time.monotonic() - began))
        if not result.success:
            failed = [
                f"{e.step_key}: {e.event_specific_data.error.message.strip()[:1500]}"
                for e in result.all_events
                if e.is_step_failure
            ]
            blocking = [
                f"{'.'.join(e.asset_key.path)} {e.check_name}: {dict(e.metadata)}"
                for e in result.get_asset_check_evaluations()
                if not e.passed and e.severity.value == "ERROR"
            ]
            raise AssertionError(
                f"run {label} [{start}..{end}] of {self.storage.root} failed:\n"
                + "\n".join(failed + blocking)
            )
        return result.all_events

    def delta_tables(self) -> set[str]:
        """'layer/table' of every Delta table under silver/, gold/ and ml/."""
        found = set()
        for layer in ("silver", "gold", "ml"):
            folder = os.path.join(self.storage.root, layer)
            if not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                if os.path.isdir(os.path.join(folder, name, "_delta_log")):
                    found.add(f"{layer}/{name}")
        return found - {"gold/data_quality_summary"}

    def table(self, name: str):
        layer, table = name.split("/")
        return self.spark.read.format("delta").load(self.storage.table_path(layer, table))

    def rows(self, name: str, key: str) -> dict:
        return {r[key]: r for r in self.table(name).collect()}

    def snapshot(self, names) -> dict:
        """Every row of each table, audit columns included (an unchanged row is not even
        rewritten)."""
        return {n: sorted(map(tuple, self.table(n).collect()), key=repr) for n in names}


# --- comparison --------------------------------------------------------------------------------
def _normal(value):
    """A hashable, exactly comparable form of a collected value. Doubles are compared to 12
    significant digits (a sum over differently laid-out files may differ in the last bit);
    decimals, dates, strings and integers exactly."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes, Decimal)):  # numpy scalar
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.12g}"
    if isinstance(value, dict):
        return tuple(sorted((_normal(k), _normal(v)) for k, v in value.items()))
    if hasattr(value, "asDict"):  # a struct (Row)
        return tuple(_normal(v) for v in value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return tuple(_normal(v) for v in value)
    if type(value).__name__ == "Timestamp":  # pandas
        return value.to_pydatetime()
    if type(value).__name__ in ("NaTType",):
        return None
    return value


def _difference(name: str, columns: list[str], incremental: list, rebuilt: list) -> str | None:
    """None when both row lists are the same multiset, else what differs (first rows)."""
    a, b = Counter(incremental), Counter(rebuilt)
    if a == b:
        return None
    only_a, only_b = sorted((a - b).elements(), key=repr), sorted((b - a).elements(), key=repr)

    def show(rows):
        return "\n".join(f"      {dict(zip(columns, r))}" for r in rows[:6]) + (
            f"\n      ... and {len(rows) - 6} more" if len(rows) > 6 else ""
        )

    return (
        f"{name}: {len(incremental)} rows incremental, {len(rebuilt)} rebuilt; "
        f"{len(only_a)} only in the incremental build, {len(only_b)} only in the rebuild\n"
        f"    only incremental:\n{show(only_a)}\n    only rebuild:\n{show(only_b)}"
    )


def _compare_delta(name: str, incremental, rebuilt) -> str | None:
    cols_a, cols_b = set(incremental.columns), set(rebuilt.columns)
    if cols_a != cols_b:
        return (
            f"{name}: columns differ; only incremental {sorted(cols_a - cols_b)}, "
            f"only rebuild {sorted(cols_b - cols_a)}"
        )
    columns = sorted(cols_a - AUDIT_COLUMNS)

    def rows(df):
        return [tuple(_normal(v) for v in r) for r in df.select(*columns).collect()]

    return _difference(name, columns, rows(incremental), rows(rebuilt))


def _compare_parquet(name: str, path_a: str, path_b: str) -> str | None:
    import pandas as pd

    exists_a, exists_b = os.path.exists(path_a), os.path.exists(path_b)
    if not (exists_a and exists_b):
        return None if exists_a == exists_b else f"{name}: exists only in one build"
    a, b = pd.read_parquet(path_a), pd.read_parquet(path_b)
    if set(a.columns) != set(b.columns):
        return f"{name}: columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    columns = sorted(set(a.columns) - AUDIT_COLUMNS)

    def rows(df):
        return [
            tuple(None if _is_missing(v) else _normal(v) for v in r)
            for r in df[columns].itertuples(index=False, name=None)
        ]

    return _difference(name, columns, rows(a), rows(b))


def _is_missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value)) and not isinstance(value, float)
    except (TypeError, ValueError):  # arrays
        return False


# --- the two lakehouses, built once --------------------------------------------------------------
# What a re-run of a landing date must leave untouched, whole rows.
IDEMPOTENT_TABLES = [
    "silver/stg_customers",
    "silver/stg_products",
    "silver/stg_orders",
    "silver/stg_order_items",
    "silver/quarantine_orders",
    "silver/quarantine_order_items",
    "gold/fct_daily_sales",
    "gold/fct_finance_daily",
]


class Built:
    """Lakehouse A (one run per delivery) and B (the rebuild), with each delivery's run's
    events and what A showed after it."""

    def __init__(self, incremental: Lakehouse, rebuilt: Lakehouse):
        self.incremental, self.rebuilt = incremental, rebuilt
        self.events: dict[str, list[DagsterEvent]] = {}  # delivery label -> its run's events
        self.c1: dict[str, tuple] = {}  # delivery label -> c1's (frequency, monetary value)
        self.march_2: dict[str, tuple] = {}  # delivery label -> 03-02's daily sales
        # delivery label -> 03-03's finance rows: (category, payment) -> (revenue, profit)
        self.march_3_finance: dict[str, dict] = {}
        self.before_rerun: dict = {}
        self.after_rerun: dict = {}

    def observe(self, label: str) -> None:
        metrics = self.incremental.rows("gold/fct_customer_metrics", "customer_id").get("c1")
        self.c1[label] = metrics and (metrics["frequency"], metrics["monetary_value"])
        day = self.incremental.rows("gold/fct_daily_sales", "order_date").get(
            dt.date.fromisoformat(D2)
        )
        self.march_2[label] = day and (day["order_count"], day["total_sales"], day["units_sold"])
        finance = self.incremental.table("gold/fct_finance_daily").where(f"order_date = '{D3}'")
        self.march_3_finance[label] = {
            (r["category"], r["payment_method"]): (r["gross_revenue"], r["gross_profit"])
            for r in finance.collect()
        }


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("incremental_equals_rebuild")
    landing = str(base / "landing")
    built = Built(
        Lakehouse(spark, str(base / "incremental"), landing),
        Lakehouse(spark, str(base / "rebuild"), landing),
    )
    for label, day, files in DELIVERIES:
        _land(landing, day, files)
        built.events[label] = built.incremental.run(day, day, f"{day} ({label})")
        built.observe(label)
    # The backfill's day again, nothing new: its older versions must keep losing.
    built.before_rerun = built.incremental.snapshot(IDEMPOTENT_TABLES)
    built.incremental.run(D0, D0, f"{D0} (re-run)")
    built.after_rerun = built.incremental.snapshot(IDEMPOTENT_TABLES)

    built.rebuilt.run(FIRST, LAST, "full rebuild")
    print("\nrun durations: " + "; ".join(
        f"{t:.0f}s {label}" for label, t in built.incremental.timings + built.rebuilt.timings
    ))
    return built


# --- the tests ---------------------------------------------------------------------------------
def test_incremental_build_equals_a_full_rebuild(built):
    incremental, rebuilt = built.incremental, built.rebuilt
    # The sequence does what it says: the rebuild, which reads the whole final landing zone at
    # once, is the contract's reading of it.
    orders = {r["order_id"]: r for r in rebuilt.table("silver/stg_orders").collect()}
    assert orders["o201"]["order_status"] == "completed"
    assert str(orders["o201"]["_landing_date"]) == D4
    assert orders["o103"]["order_status"] == "cancelled"
    assert orders["o203"]["order_status"] == "completed"
    assert str(orders["o203"]["_landing_date"]) == D2
    assert orders["o303"]["order_date"] == dt.date(2024, 3, 3)
    assert orders["o104"]["order_status"] == "completed"
    assert str(orders["g201"]["_landing_date"]) == D5
    assert "c8" not in {r[0] for r in rebuilt.table("silver/int_customer_summary").collect()}
    customers = {r["customer_id"]: r for r in rebuilt.table("silver/stg_customers").collect()}
    assert customers["c1"]["email"] == "ann@example.com"
    assert customers["c2"]["email"] == "ben.ray@example.com"

    tables_a, tables_b = incremental.delta_tables(), rebuilt.delta_tables()
    assert tables_a == tables_b, (
        f"tables only in the incremental build: {sorted(tables_a - tables_b)}; "
        f"only in the rebuild: {sorted(tables_b - tables_a)}"
    )
    # Every silver, gold and ML table of the lakehouse is compared.
    assert {"silver/stg_orders", "silver/int_customer_orders", "silver/int_customer_summary",
            "gold/fct_daily_sales",
            "gold/fct_product_pairs", "ml/ml_customer_features"} <= tables_a
    assert not incremental.table("gold/fct_product_pairs").isEmpty()

    differences = [
        d for name in sorted(tables_a)
        if (d := _compare_delta(name, incremental.table(name), rebuilt.table(name)))
    ]
    export = "ml/exports/ml_customer_features.parquet"
    parquet = _compare_parquet(
        export,
        os.path.join(incremental.storage.root, export),
        os.path.join(rebuilt.storage.root, export),
    )
    differences += [parquet] if parquet else []
    assert not differences, (
        f"{len(differences)} of {len(tables_a) + 1} tables differ between the incremental "
        "build (one run per delivery) and the full rebuild:\n\n" + "\n\n".join(differences)
    )


def test_a_late_status_change_moves_its_order_date_and_customer(built):
    late = "late status changes o201 -> completed, o103 -> cancelled"
    before = "new email, o202's items, o303 mistyped, o203 cancelled by mistake"
    # Before: c1 has o101 only: 2 x 10.00 + 1 x 25.00 + 5.00 shipping = 50.00 (its line of
    # quantity -1 is quarantined). 03-02 has o202 only: 10.00 + 25.00 = 35.00, 2 units (o201
    # is pending, o203 cancelled by mistake, g201 and o299 quarantined).
    assert built.c1[before] == (1, Decimal("50.00"))
    assert built.march_2[before] == (1, Decimal("35.00"), 2)
    # o201 (placed 03-02, 10.00 + 25.00 + 5.00 shipping = 40.00) completes on 03-04, the day
    # c1 also places o402 (2 x 45.00 + 2.00 = 92.00): 50.00 + 40.00 + 92.00 = 182.00.
    assert built.c1[late] == (3, Decimal("182.00"))
    # The ORDER date's sales move, though the change landed two days later: 35.00 + 40.00.
    assert built.march_2[late] == (2, Decimal("75.00"), 4)


def test_a_product_change_reaches_every_order_date_of_its_product(built):
    """p3's new category and cost land on 03-04; 03-03's o302 (paypal, 1 x p3 at 40.00) moves
    from Lighting to Lamps in the finance mart the same run, its profit from 40.00 - 18.00 to
    40.00 - 20.00, though no order of 03-04 is dated 03-03."""
    [before, after] = [built.march_3_finance[label] for label, *_ in DELIVERIES[2:4]]
    assert before[("Lighting", "paypal")] == (Decimal("40.00"), Decimal("22.00"))
    assert ("Lighting", "paypal") not in after  # the stale row is removed
    assert after[("Lamps", "paypal")] == (Decimal("40.00"), Decimal("20.00"))
    assert {k: v for k, v in after.items() if k[0] != "Lamps"} == {
        k: v for k, v in before.items() if k[0] != "Lighting"
    }


def test_an_out_of_order_backfill_keeps_the_newer_versions(built):
    lake = built.incremental
    order = lake.rows("silver/stg_orders", "order_id")["o104"]
    assert (order["order_status"], str(order["_landing_date"])) == ("completed", D1)
    assert lake.table("bronze/orders").where("order_id = 'o104'").count() == 2  # both versions
    assert lake.rows("silver/stg_customers", "customer_id")["c1"]["email"] == "ann@example.com"
    # 02-29: o104 (1 x 40.00) stays completed; 02-28: the backfill's new order o001.
    days = lake.rows("gold/fct_daily_sales", "order_date")
    row = days[dt.date(2024, 2, 29)]
    assert (row["order_count"], row["total_sales"], row["units_sold"]) == (1, Decimal("40.00"), 1)
    row = days[dt.date(2024, 2, 28)]
    assert (row["order_count"], row["total_sales"]) == (1, Decimal("37.50"))
    # c1 after every delivery: o101 50.00 + o201 40.00 + o402 92.00; the backfill changes none.
    assert built.c1["out-of-order backfill of 02-28"] == (3, Decimal("182.00"))


def test_rerunning_a_landing_date_changes_no_row(built):
    for table in IDEMPOTENT_TABLES:
        # Whole rows, audit columns included: an unchanged row is not even rewritten.
        assert built.after_rerun[table] == built.before_rerun[table], table


def _reasons(lake: Lakehouse, table: str, key: str) -> dict:
    return {k: r["reasons"] for k, r in lake.rows(table, key).items()}


def test_items_of_rejected_orders_are_quarantined_and_return_when_the_order_is_fixed(built):
    lake = built.incremental
    assert _reasons(lake, "silver/quarantine_orders", "order_id")["o299"] == [
        "out_of_range:order_date", "future:order_date",
    ]
    items = _reasons(lake, "silver/quarantine_order_items", "order_item_id")
    # The guest order's item left the quarantine when its order was fixed; o299's stays.
    assert set(items) == {"i1013", "i2991"}
    assert items["i2991"] == [
        "order_rejected", "order:future:order_date", "order:out_of_range:order_date",
    ]
    stg_items = lake.rows("silver/stg_order_items", "order_item_id")
    assert "i2991" not in stg_items and str(stg_items["i2091"]["_landing_date"]) == D2

    # On 03-02 the guest order's item was quarantined with its order; referential integrity
    # counts only what is unexplained: nothing here.
    checks = {
        (e.asset_key.path[1], e.check_name): e
        for e in (
            event.asset_check_evaluation_data
            for event in built.events["o201 pending, guest order, o202 without items"]
            if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
        )
    }
    integrity = checks[("stg_order_items", "referential_integrity")]
    assert integrity.passed and integrity.metadata["rows_failed"].value == 0
    assert checks[("stg_order_items", "conservation")].passed
    # 03-05 re-classified the item's landing date.
    revisited = next(
        e.step_materialization_data.materialization.metadata["revisited_landing_dates"].value
        for e in built.events["guest order fixed"]
        if e.is_step_materialization and e.asset_key.path == ["silver", "stg_order_items"]
    )
    assert revisited == [D2]
    # The 9999 order is not anyone's "as of": the analysis date is 03-06 (o601 of c4).
    assert lake.rows("silver/int_customer_rfm", "customer_id")["c4"]["recency_days"] == 0
    # g201 counts for c6 now: o203 66.00 + g201 2 x 15.00 = 96.00.
    metrics = lake.rows("gold/fct_customer_metrics", "customer_id")["c6"]
    assert (metrics["frequency"], metrics["monetary_value"]) == (2, Decimal("96.00"))


def test_silver_quarantine_schema_is_the_stored_one(built):
    """Regression: `reasons` was array<string NOT NULL> while Delta stores array<string>, so
    the second landing date's MERGE into silver.quarantine_* failed as a type change."""
    lake = built.incremental
    for entity, spec in ENTITY_SPECS.items():
        _, quarantine = build_silver(lake.table(f"bronze/{entity}"), spec)
        stored = lake.table(f"silver/quarantine_{entity}").schema
        assert [(f.name, f.dataType) for f in quarantine.schema] == [
            (f.name, f.dataType) for f in stored
        ], entity
