"""Silver: current version per key, quarantine reasons, silver cleaning, conservation."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D

from lakehouse_assets.transforms.silver import (
    ENTITY_KEYS,
    ORDER_ITEMS,
    Plausibility,
    build_silver,
    landing_dates_to_revisit,
    rejected_parents,
    silver_customers,
    silver_order_items,
    silver_orders,
    silver_products,
    superseded_rows,
)

BRONZE_METADATA = (
    "_landing_date date, _source_file string, _line_number int, _file_hash string,"
    " _ingested_at timestamp, _run_id string, _rescued_data string"
)
CUSTOMERS_DDL = (
    "customer_id string, email string, first_name string, last_name string, country string,"
    " created_at timestamp, phone string, city string, age int"
)
PRODUCTS_DDL = (
    "product_id string, product_name string, category string, cost_price decimal(18,4),"
    " list_price decimal(18,4), department string, supplier_id string, stock_level int,"
    " reorder_point int"
)
ORDERS_DDL = (
    "order_id string, customer_id string, order_date timestamp, status string,"
    " shipping_cost decimal(18,4), payment_method string, payment_status string,"
    " currency string, tax_amount decimal(18,4), discount_amount decimal(18,4)"
)
ORDER_ITEMS_DDL = (
    "order_item_id string, order_id string, product_id string, quantity int,"
    " unit_price decimal(18,4)"
)


def bronze(spark, entity, business_ddl, rows):
    """rows: (business values, landing 'YYYY-MM-DD', file name, line, rescued dict or None)."""
    data = [
        (
            *values,
            date.fromisoformat(landing),
            f"{entity}/{landing}/{file_name}",
            line,
            "sha256",
            datetime(2024, 12, 1),
            "run-1",
            json.dumps(rescued) if rescued is not None else None,
        )
        for values, landing, file_name, line, rescued in rows
    ]
    return spark.createDataFrame(data, f"{business_ddl}, {BRONZE_METADATA}")


def types(df):
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def quarantine_types(key):
    return [
        (key, "string"),
        ("_landing_date", "date"),
        ("_source_file", "string"),
        ("_line_number", "int"),
        ("reasons", "array<string>"),
        ("record", "string"),
    ]


def run_silver(silver_fn, entity, bronze_df, input_rows):
    """Run one silver function and check the quarantine schema and conservation (every bronze
    row is in exactly one of silver, quarantine, superseded).

    Returns (silver DataFrame, silver rows, {(key, file name, line): reasons}, quarantine rows,
    number of superseded rows).
    """
    silver, quarantine = silver_fn(bronze_df)
    key = ENTITY_KEYS[entity]
    assert types(quarantine) == quarantine_types(key)
    silver_rows, quarantine_rows = silver.collect(), quarantine.collect()
    superseded = superseded_rows(bronze_df, entity).count()
    assert len(input_rows) == len(silver_rows) + len(quarantine_rows) + superseded
    reasons = {
        (r[key], r["_source_file"].rsplit("/", 1)[1], r["_line_number"]): r["reasons"]
        for r in quarantine_rows
    }
    return silver, silver_rows, reasons, quarantine_rows, superseded


def customer(cid, email="x@example.com", first="Ann", last="Lee", country="US",
             created=datetime(2023, 1, 15)):
    return (cid, email, first, last, country, created, None, None, None)


def test_entity_keys():
    assert ENTITY_KEYS == {
        "customers": "customer_id",
        "products": "product_id",
        "orders": "order_id",
        "order_items": "order_item_id",
    }


def test_silver_customers_versions_quarantine_cleaning_and_conservation(spark):
    d1, d2 = "2024-01-01", "2024-01-02"
    rows = [
        # c1: re-sent on d2; the older d1 row comes LATER in the input and on a later line,
        # and must still lose (latest landing date wins) -> superseded.
        (customer("c1", "new@example.com"), d2, "a.csv", 2, None),
        (customer("c1", "old@example.com"), d1, "z.csv", 99, None),
        # c2: three times on d1: b.csv line 10 is last in file order (file name, then line as
        # a number: 10 after 9); the others are duplicates within the landing date.
        (customer("c2", "third@example.com"), d1, "b.csv", 10, None),
        (customer("c2", "first@example.com"), d1, "a.csv", 10, None),
        (customer("c2", "second@example.com"), d1, "b.csv", 9, None),
        # c3: silver cleaning.
        (
            (
                "c3", " John.DOE@Email.COM ", " jOHN ", "o'BRIEN smith", " us ",
                datetime(2023, 1, 15, 23, 30), "+1 555", "Boston", 42,
            ),
            d1, "a.csv", 3, None,
        ),
        (customer("c4", "no-at-sign"), d1, "a.csv", 4, None),
        (customer(""), d1, "a.csv", 5, None),
        (customer(None, first=None), d1, "a.csv", 6, None),
        # c5: unparseable created_at (raw text rescued) and a missing last_name: both listed.
        (
            customer("c5", last=None, created=None),
            d1, "a.csv", 7, {"created_at": "not-a-date", "loyalty_tier": "gold"},
        ),
        # c6: the newest row is invalid -> the latest VALID version (d1) stays current.
        (customer("c6", "c6@example.com"), d1, "a.csv", 8, None),
        (customer("c6", "broken"), d2, "a.csv", 3, None),
        # c7: on d2 the last row in file order is invalid; the earlier rows (one valid) are
        # still duplicates (only the day's last row may be current) -> no current version.
        (customer("c7", "bad-email"), d2, "a.csv", 4, None),
        (customer("c7"), d2, "a.csv", 5, None),
        (customer("c7", first="  "), d2, "a.csv", 6, None),
    ]
    bronze_customers = bronze(spark, "customers", CUSTOMERS_DDL, rows)

    silver, silver_rows, reasons, quarantine_rows, superseded = run_silver(
        silver_customers, "customers", bronze_customers, rows
    )

    assert types(silver) == [
        ("customer_id", "string"), ("email", "string"), ("first_name", "string"),
        ("last_name", "string"), ("country", "string"), ("customer_created_at", "date"),
        ("phone", "string"), ("city", "string"), ("age", "int"),
        ("is_valid_email", "boolean"), ("_landing_date", "date"),
    ]

    by_id = {r["customer_id"]: r.asDict() for r in silver_rows}
    assert sorted(by_id) == ["c1", "c2", "c3", "c6"]
    assert (by_id["c1"]["email"], by_id["c1"]["_landing_date"]) == ("new@example.com", date(2024, 1, 2))
    assert by_id["c2"]["email"] == "third@example.com"
    assert by_id["c3"] == {
        "customer_id": "c3",
        "email": "john.doe@email.com",
        "first_name": "John",
        "last_name": "O'brien Smith",
        "country": "US",
        "customer_created_at": date(2023, 1, 15),
        "phone": "+1 555",
        "city": "Boston",
        "age": 42,
        "is_valid_email": True,
        "_landing_date": date(2024, 1, 1),
    }
    assert (by_id["c6"]["email"], by_id["c6"]["_landing_date"]) == ("c6@example.com", date(2024, 1, 1))

    dup = "duplicate_key_in_landing_date"
    assert reasons == {
        ("c2", "a.csv", 10): [dup],
        ("c2", "b.csv", 9): [dup],
        ("c4", "a.csv", 4): ["invalid_email"],
        ("", "a.csv", 5): ["missing:customer_id"],
        (None, "a.csv", 6): ["missing:customer_id", "missing:first_name"],
        ("c5", "a.csv", 7): ["missing:last_name", "unparseable:created_at"],
        ("c6", "a.csv", 3): ["invalid_email"],
        ("c7", "a.csv", 4): ["invalid_email", dup],
        ("c7", "a.csv", 5): [dup],
        ("c7", "a.csv", 6): ["missing:first_name"],
    }

    # record: JSON of the business columns (nulls included, metadata excluded).
    (c5_record,) = [json.loads(r["record"]) for r in quarantine_rows if r["customer_id"] == "c5"]
    assert list(c5_record) == [
        "customer_id", "email", "first_name", "last_name", "country", "created_at",
        "phone", "city", "age",
    ]
    assert (c5_record["last_name"], c5_record["created_at"], c5_record["email"]) == (
        None, None, "x@example.com",
    )

    # 15 rows = 4 current + 10 quarantined + 1 superseded (the old c1).
    assert superseded == 1


def test_silver_orders_status_dates_money_and_bad_values(spark):
    d1 = "2024-12-01"
    rows = [
        # ' Completed ' is completed (the original design compared the raw value); 5.005 rounds half up.
        (("o1", "c1", datetime(2024, 1, 1), " Completed ", D("5.0050"), "card", "paid", "USD",
          D("1.2345"), None), d1, "a.csv", 2, None),
        (("o2", "c1", datetime(2024, 5, 18, 12), "PENDING", D("0"), None, None, None,
          D("-1"), None), d1, "a.csv", 3, None),
        # Does not fit decimal(10,2): quarantined, no ANSI overflow error.
        (("o3", "c2", datetime(2024, 8, 3), "completed", D("123456789"), None, None, None,
          None, None), d1, "a.csv", 4, None),
        ((("o4", None, None, "  ", None, None, None, None, None, None)), d1, "a.csv", 5,
         {"order_date": "2024-13-45", "shipping_cost": "abc"}),
        (("o5", "c2", datetime(2024, 11, 15), "shipped", D("-3"), None, None, None, None,
          D("-0.5")), d1, "a.csv", 6, None),
        (("o6", "c2", datetime(2024, 8, 3, 18, 45), "Completed", D("0"), None, None, None,
          None, None), d1, "a.csv", 7, None),
        # Plausibility: a valid timestamp bronze cannot store (rescued as text), one before
        # the earliest order date, one more than a day after its landing date; the day after
        # the landing date is allowed (time zones).
        (("o7", "c2", None, "completed", D("0"), None, None, None, None, None), d1, "a.csv", 8,
         {"order_date": "9999-12-31"}),
        (("o8", "c2", datetime(1999, 12, 31), "completed", D("0"), None, None, None, None,
          None), d1, "a.csv", 9, None),
        (("o9", "c2", datetime(2024, 12, 3), "completed", D("0"), None, None, None, None,
          None), d1, "a.csv", 10, None),
        (("o10", "c2", datetime(2024, 12, 2, 23), "completed", D("0"), None, None, None, None,
          None), d1, "a.csv", 11, None),
    ]
    bronze_orders = bronze(spark, "orders", ORDERS_DDL, rows)

    silver, silver_rows, reasons, quarantine_rows, superseded = run_silver(
        silver_orders, "orders", bronze_orders, rows
    )

    assert types(silver) == [
        ("order_id", "string"), ("customer_id", "string"), ("order_date", "date"),
        ("order_status", "string"), ("shipping_cost", "decimal(10,2)"), ("order_year", "int"),
        ("order_month", "int"), ("order_quarter", "int"), ("order_day_of_week", "string"),
        ("is_completed", "boolean"), ("payment_method", "string"), ("payment_status", "string"),
        ("currency", "string"), ("tax_amount", "decimal(10,2)"),
        ("discount_amount", "decimal(10,2)"), ("_landing_date", "date"),
    ]

    by_id = {r["order_id"]: r.asDict() for r in silver_rows}
    assert by_id.pop("o10")["order_date"] == date(2024, 12, 2)
    assert by_id == {
        "o1": {
            "order_id": "o1", "customer_id": "c1", "order_date": date(2024, 1, 1),
            "order_status": "completed", "shipping_cost": D("5.01"), "order_year": 2024,
            "order_month": 1, "order_quarter": 1, "order_day_of_week": "Monday",
            "is_completed": True, "payment_method": "card", "payment_status": "paid",
            "currency": "USD", "tax_amount": D("1.23"), "discount_amount": None,
            "_landing_date": date(2024, 12, 1),
        },
        "o6": {
            "order_id": "o6", "customer_id": "c2", "order_date": date(2024, 8, 3),
            "order_status": "completed", "shipping_cost": D("0.00"), "order_year": 2024,
            "order_month": 8, "order_quarter": 3, "order_day_of_week": "Saturday",
            "is_completed": True, "payment_method": None, "payment_status": None,
            "currency": None, "tax_amount": None, "discount_amount": None,
            "_landing_date": date(2024, 12, 1),
        },
    }
    assert reasons == {
        ("o2", "a.csv", 3): ["negative:tax_amount"],
        ("o3", "a.csv", 4): ["out_of_range:shipping_cost"],
        ("o4", "a.csv", 5): [
            "missing:customer_id", "unparseable:order_date", "missing:status",
            "unparseable:shipping_cost",
        ],
        ("o5", "a.csv", 6): ["negative:shipping_cost", "negative:discount_amount"],
        ("o7", "a.csv", 8): ["out_of_range:order_date", "future:order_date"],
        ("o8", "a.csv", 9): ["too_early:order_date"],
        ("o9", "a.csv", 10): ["future:order_date"],
    }
    assert superseded == 0


def test_silver_order_items_line_total_and_quantity_rules(spark):
    d1 = "2024-02-01"
    rows = [
        (("i1", "o1", "p1", 3, D("10.5")), d1, "a.csv", 2, None),
        # line_total = quantity * the silver unit_price (1.005 -> 1.01), so 3.03.
        (("i2", "o1", "p2", 3, D("1.005")), d1, "a.csv", 3, None),
        (("i3", "o1", "p1", 0, D("1")), d1, "a.csv", 4, None),
        (("i4", "o1", "p1", -1, D("-2")), d1, "a.csv", 5, None),
        (("i5", "o1", "p1", 9000, D("99999.99")), d1, "a.csv", 6, None),
        (("i6", "o1", None, None, D("1")), d1, "a.csv", 7, {"quantity": "three"}),
        (("i7", "o1", "p1", 1, D("100000000")), d1, "a.csv", 8, None),
        # Plausibility bounds (defaults: quantity <= 10,000, unit price <= 100,000).
        (("i8", "o1", "p1", 80995, D("0.21")), d1, "a.csv", 9, None),
        (("i9", "o1", "p1", 10000, D("0.00")), d1, "a.csv", 10, None),
    ]
    bronze_items = bronze(spark, "order_items", ORDER_ITEMS_DDL, rows)

    silver, silver_rows, reasons, quarantine_rows, superseded = run_silver(
        silver_order_items, "order_items", bronze_items, rows
    )

    assert types(silver) == [
        ("order_item_id", "string"), ("order_id", "string"), ("product_id", "string"),
        ("quantity", "int"), ("unit_price", "decimal(10,2)"), ("line_total", "decimal(10,2)"),
        ("_landing_date", "date"),
    ]
    assert sorted(tuple(r)[:6] for r in silver_rows) == [
        ("i1", "o1", "p1", 3, D("10.50"), D("31.50")),
        ("i2", "o1", "p2", 3, D("1.01"), D("3.03")),
        ("i9", "o1", "p1", 10000, D("0.00"), D("0.00")),
    ]
    assert reasons == {
        ("i3", "a.csv", 4): ["non_positive_quantity"],
        ("i4", "a.csv", 5): ["non_positive_quantity", "negative:unit_price"],
        ("i5", "a.csv", 6): ["out_of_range:line_total"],
        ("i6", "a.csv", 7): ["missing:product_id", "unparseable:quantity"],
        ("i7", "a.csv", 8): ["above_max:unit_price", "out_of_range:unit_price"],
        ("i8", "a.csv", 9): ["above_max:quantity"],
    }
    assert superseded == 0


def test_items_of_rejected_orders_are_rejected_with_the_orders_reasons(spark):
    d1 = "2024-02-01"
    stg_orders = spark.createDataFrame([("o1",), ("o3",)], "order_id string")
    quarantine_orders = spark.createDataFrame(
        [
            ("o2", ["missing:customer_id"]),  # a guest order: never valid
            ("o2", ["future:order_date", "missing:customer_id"]),  # and a second bad version
            ("o3", ["negative:shipping_cost"]),  # rejected once, but a valid version exists
            (None, ["missing:order_id"]),
        ],
        "order_id string, reasons array<string>",
    )
    rejected = rejected_parents(stg_orders, quarantine_orders, "order_id")
    assert sorted(map(tuple, rejected.collect())) == [
        ("o2", ["future:order_date", "missing:customer_id"])
    ]
    rows = [
        (("i1", "o1", "p1", 1, D("1")), d1, "a.csv", 2, None),
        (("i2", "o2", "p1", 1, D("1")), d1, "a.csv", 3, None),
        (("i3", "o3", "p1", 1, D("1")), d1, "a.csv", 4, None),
        (("i4", "o9", "p1", 1, D("1")), d1, "a.csv", 5, None),  # order unknown yet: stays
        (("i5", "o2", "p1", 0, D("1")), d1, "a.csv", 6, None),
    ]
    items = bronze(spark, "order_items", ORDER_ITEMS_DDL, rows)
    silver, quarantine = build_silver(items, ORDER_ITEMS, rejected_parents=rejected)
    assert sorted(r["order_item_id"] for r in silver.collect()) == ["i1", "i3", "i4"]
    assert {r["order_item_id"]: r["reasons"] for r in quarantine.collect()} == {
        "i2": ["order_rejected", "order:future:order_date", "order:missing:customer_id"],
        "i5": ["non_positive_quantity", "order_rejected", "order:future:order_date",
               "order:missing:customer_id"],
    }
    assert types(quarantine) == quarantine_types("order_item_id")


def test_landing_dates_to_revisit_are_other_dates_with_items_of_touched_orders(spark):
    rows = [
        (("i1", "o1", "p1", 1, D("1")), "2024-02-01", "a.csv", 2, None),
        (("i2", "o2", "p1", 1, D("1")), "2024-02-02", "a.csv", 2, None),
        (("i3", "o1", "p1", 1, D("1")), "2024-02-03", "a.csv", 2, None),
        (("i4", "o1", "p1", 1, D("1")), "2024-02-05", "a.csv", 2, None),
    ]
    items = bronze(spark, "order_items", ORDER_ITEMS_DDL, rows)
    touched = spark.createDataFrame([("o1",), ("o1",)], "order_id string")
    assert landing_dates_to_revisit(
        items, touched, "order_id", date(2024, 2, 3), date(2024, 2, 4)
    ) == [date(2024, 2, 1), date(2024, 2, 5)]


def test_customers_signed_up_in_the_future_are_quarantined(spark):
    d1 = "2024-02-01"
    rows = [
        (customer("c1", created=datetime(2024, 2, 2, 23)), d1, "a.csv", 2, None),  # time zones
        (customer("c2", created=datetime(2024, 2, 3)), d1, "a.csv", 3, None),
        (customer("c3", created=None), d1, "a.csv", 4, {"created_at": "9999-12-31T00:00:00"}),
    ]
    silver, silver_rows, reasons, _, _ = run_silver(
        silver_customers, "customers", bronze(spark, "customers", CUSTOMERS_DDL, rows), rows
    )
    assert [r["customer_id"] for r in silver_rows] == ["c1"]
    assert reasons == {
        ("c2", "a.csv", 3): ["future:created_at"],
        ("c3", "a.csv", 4): ["out_of_range:created_at", "future:created_at"],
    }


def test_plausibility_bounds_are_settings(spark):
    rows = [(("i1", "o1", "p1", 50, D("20")), "2024-02-01", "a.csv", 2, None)]
    items = bronze(spark, "order_items", ORDER_ITEMS_DDL, rows)
    strict = Plausibility(max_quantity=49, max_unit_price=D("19.99"))
    _, quarantine = build_silver(items, ORDER_ITEMS, strict)
    assert quarantine.first()["reasons"] == ["above_max:quantity", "above_max:unit_price"]


def test_silver_products_margins_are_ansi_safe(spark):
    d1 = "2024-02-01"
    rows = [
        (("p1", "  Widget ", "home GOODS", D("6"), D("10"), "Home", "s1", 5, 2), d1, "a.csv", 2, None),
        # list_price 0: profit_margin_pct null, not a division-by-zero error.
        (("p2", "Free", "promo", D("0"), D("0"), None, None, None, None), d1, "a.csv", 3, None),
        # -1900 % does not fit decimal(5,2): null, not an overflow error.
        (("p3", "Loss", "x", D("20"), D("1"), None, None, None, None), d1, "a.csv", 4, None),
        (("p4", "Third", "x", D("2"), D("3"), None, None, None, None), d1, "a.csv", 5, None),
        (("p5", "Neg", "x", D("-1"), D("3"), None, None, None, None), d1, "a.csv", 6, None),
        (("p6", "", "x", D("1"), D("2"), None, None, None, None), d1, "a.csv", 7, None),
    ]
    bronze_products = bronze(spark, "products", PRODUCTS_DDL, rows)

    silver, silver_rows, reasons, quarantine_rows, superseded = run_silver(
        silver_products, "products", bronze_products, rows
    )

    assert types(silver) == [
        ("product_id", "string"), ("product_name", "string"), ("category", "string"),
        ("department", "string"), ("supplier_id", "string"), ("stock_level", "int"),
        ("reorder_point", "int"), ("cost_price", "decimal(10,2)"),
        ("list_price", "decimal(10,2)"), ("profit_margin", "decimal(10,2)"),
        ("profit_margin_pct", "decimal(5,2)"), ("_landing_date", "date"),
    ]
    by_id = {r["product_id"]: r for r in silver_rows}
    assert sorted(by_id) == ["p1", "p2", "p3", "p4"]
    assert tuple(by_id["p1"])[:11] == (
        "p1", "Widget", "Home Goods", "Home", "s1", 5, 2, D("6.00"), D("10.00"), D("4.00"),
        D("40.00"),
    )
    assert (by_id["p2"]["profit_margin"], by_id["p2"]["profit_margin_pct"]) == (D("0.00"), None)
    assert (by_id["p3"]["profit_margin"], by_id["p3"]["profit_margin_pct"]) == (D("-19.00"), None)
    assert (by_id["p4"]["profit_margin"], by_id["p4"]["profit_margin_pct"]) == (D("1.00"), D("33.33"))
    assert reasons == {
        ("p5", "a.csv", 6): ["negative:cost_price"],
        ("p6", "a.csv", 7): ["missing:product_name"],
    }
    assert superseded == 0
