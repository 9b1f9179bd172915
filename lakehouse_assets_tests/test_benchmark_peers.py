"""The benchmark peers (benchmarks/peers): the plain PySpark script and the DuckDB pipeline build
the same gold and ML tables from one landing zone, and compare_gold finds differences.

Real Spark and Delta (the session fixture), a small generated clean landing zone plus a few
hand-written valid rows that exercise silver's normalisation and version rules.
"""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal

import pandas as pd
import pytest

from benchmarks.peers import duckdb_pipeline, pyspark_script
from benchmarks.peers.gold_numbers import (
    GOLD_TABLES,
    compare_gold,
    gold_tables_from_delta,
    summary,
)
from lakehouse_assets.datagen import generate_landing_zone


def _write(path, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _first_row(root, dataset: str) -> dict[str, str]:
    folder = os.path.join(root, dataset, sorted(os.listdir(os.path.join(root, dataset)))[0])
    with open(os.path.join(folder, sorted(os.listdir(folder))[0]), newline="") as f:
        return next(csv.DictReader(f))


def _add_edge_rows(root) -> str:
    """Valid rows on the last landing date that silver must normalise or choose between."""
    last = max(os.listdir(os.path.join(root, "orders")))
    day = lambda dataset, name: os.path.join(root, dataset, last, name)  # noqa: E731
    customer = _first_row(root, "customers")["customer_id"]
    order = _first_row(root, "orders")
    # A re-sent customer with untidy text; new customers, one sent twice in two files of the
    # day (the later file wins) and one twice in one file (the later line wins); columns in
    # another order and optional columns missing.
    _write(day("customers", "zz_extra.csv"),
           "email,customer_id,first_name,last_name,country,created_at,city\n"
           f" Mixed.Case@Example.COM ,{customer},mary-ann,o'brien  de la CRUZ, us ,"
           "2024-01-01 08:00:00,Springfield\n"
           "x1@example.com,X-C1,Ann,Lee,DE,2024-01-02T00:00:00,Berlin\n"
           "first@example.com,X-C2,First,Version,FR,2024-01-03T00:00:00,Paris\n")
    _write(day("customers", "zzz_later.csv"),
           "customer_id,email,first_name,last_name,country,created_at\n"
           "X-C2,second@example.com,Second,Version,FR,2024-01-03T00:00:00\n"
           "X-C3,a@example.com,Line,One,NL,2024-01-04T00:00:00\n"
           "X-C3,b@example.com,Line,Two,NL,2024-01-04T00:00:00\n")
    # Margins whose percentage is a tie at the third decimal (45.125 -> 45.13, -45.125 ->
    # -45.13), a free product (no percentage) and a loss leader.
    _write(day("products", "zz_extra.csv"),
           "product_id,product_name,category,cost_price,list_price\n"
           "X-P1,  Tie Widget  ,  home & garden  ,21.95,40.00\n"
           "X-P2,Free Thing,gifts,0.00,0.00\n"
           "X-P3,Loss Leader,gifts,30.00,20.00\n"
           "X-P4,Negative Tie,gifts,58.05,40.00\n")
    # An existing order re-sent completed (untidy status); a completed order without items.
    resent = io.StringIO()
    writer = csv.DictWriter(resent, fieldnames=list(order), lineterminator="\n")
    writer.writeheader()
    writer.writerow({**order, "status": " COMPLETED "})
    _write(day("orders", "zz_extra.csv"), resent.getvalue())
    _write(day("orders", "zzz_new.csv"),
           "order_id,customer_id,order_date,status,shipping_cost\n"
           f"X-O1,X-C1,{last}T10:00:00, Completed ,4.99\n"
           f"X-O2,X-C2,{last}T11:00:00,completed,7.50\n")
    _write(day("order_items", "zz_extra.csv"),
           "order_item_id,order_id,product_id,quantity,unit_price\n"
           "X-I1,X-O1,X-P1,2,40.00\n"
           "X-I2,X-O1,X-P3,1,20.00\n"
           "X-I3,X-O1,X-P4,3,40.00\n")
    return customer


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("peers") / "landing")
    generate_landing_zone(root, seed=11, order_items=4000, start="2024-01-01", days=40)
    resent_customer = _add_edge_rows(root)
    return root, resent_customer


@pytest.fixture(scope="module")
def script_build(spark, landing, tmp_path_factory):
    lakehouse = str(tmp_path_factory.mktemp("peers") / "lakehouse")
    seconds = pyspark_script.run(landing[0], lakehouse, spark=spark)
    return lakehouse, seconds, gold_tables_from_delta(spark, lakehouse)


@pytest.fixture(scope="module")
def duckdb_build(landing):
    timings: dict[str, float] = {}
    tables = duckdb_pipeline.run(landing[0], threads=2, timings=timings)
    return tables, timings


def test_script_writes_the_tables_of_the_dagster_peer_run(script_build, spark):
    """Same Delta writes: the script writes exactly the tables the benchmark's Dagster peer
    run materializes (bronze and silver quarantines and ledgers included)."""
    from benchmarks.scenario import asset_selection
    from lakehouse_assets.definitions import defs

    lakehouse, seconds, _ = script_build
    dagster_tables = {
        ".".join(key.path)
        for key in asset_selection("peer_tables").resolve(defs.resolve_asset_graph())
    }
    tables = sorted(set(seconds) - {"spark_session", "total"})
    assert set(tables) == dagster_tables
    assert {"bronze.ledger_orders", "silver.quarantine_orders", "gold.fct_customer_metrics"} <= (
        dagster_tables
    )
    assert seconds["total"] >= sum(seconds[t] for t in tables)
    for table in tables:
        path = os.path.join(lakehouse, *table.split("."))
        assert os.path.isdir(os.path.join(path, "_delta_log")), table
    bronze_orders = spark.read.format("delta").load(f"{lakehouse}/bronze/orders")
    stg_orders = spark.read.format("delta").load(f"{lakehouse}/silver/stg_orders")
    # Orders are re-sent with status updates: silver keeps one version per key.
    assert bronze_orders.count() > stg_orders.count()
    assert stg_orders.count() == stg_orders.select("order_id").distinct().count()


def test_duckdb_gold_equals_the_script_gold(script_build, duckdb_build):
    expected, actual = script_build[2], duckdb_build[0]
    assert set(actual) == set(GOLD_TABLES)
    assert len(expected["gold.fct_customer_metrics"]) > 300
    assert compare_gold(expected, actual) == []
    assert summary(expected) == summary(actual)
    timings = duckdb_build[1]
    assert {"bronze.orders", "silver.stg_orders", "ml.ml_customer_features"} <= set(timings)


def test_both_peers_apply_silver_rules_to_the_edge_rows(script_build, duckdb_build, landing):
    resent_customer = landing[1]
    for tables in (script_build[2], duckdb_build[0]):
        customers = tables["gold.fct_customer_metrics"].set_index("customer_id")
        names = ["email", "first_name", "last_name", "country"]
        assert customers.loc[resent_customer, names].tolist() == [
            "mixed.case@example.com", "Mary-ann", "O'brien  De La Cruz", "US"
        ]
        assert customers.loc["X-C2", "email"] == "second@example.com"  # later file of the day
        assert customers.loc["X-C3", "email"] == "b@example.com"  # later line of the file
        # X-O2 is completed without items: it costs its shipping only.
        assert float(customers.loc["X-C2", "monetary_value"]) == 7.50
        products = tables["gold.fct_product_performance"].set_index("product_id")
        assert products.loc["X-P1", ["product_name", "category"]].tolist() == [
            "Tie Widget", "Home & Garden"
        ]
        percentages = products.loc[["X-P1", "X-P2", "X-P3", "X-P4"], "profit_margin_pct"]
        assert [None if pd.isna(v) else Decimal(str(v)) for v in percentages] == [
            Decimal("45.13"), None, Decimal("-50.00"), Decimal("-45.13")
        ]
        assert float(products.loc["X-P4", "total_profit"]) == pytest.approx(3 * (40.00 - 58.05))


def test_compare_gold_reports_a_changed_value_and_a_missing_key(duckdb_build):
    expected = duckdb_build[0]
    actual = {name: df.copy() for name, df in expected.items()}
    metrics = actual["gold.fct_customer_metrics"]
    changed = metrics.index[metrics["monetary_value"] > 0][0]
    metrics.loc[changed, "monetary_value"] = metrics.loc[changed, "monetary_value"] * 1.001
    products = actual["gold.fct_product_performance"]
    dropped = products["product_id"].iloc[0]
    actual["gold.fct_product_performance"] = products.iloc[1:]

    differences = compare_gold(expected, actual)

    assert len(differences) == 2, differences
    changed_id = metrics.loc[changed, "customer_id"]
    assert differences[0].startswith("gold.fct_customer_metrics.monetary_value: 1 of ")
    assert f"customer_id={changed_id}" in differences[0]
    assert differences[1].startswith("gold.fct_product_performance: 1 product_id missing in actual")
    assert dropped in differences[1]


def test_compare_gold_rules():
    def tables(**columns):
        frame = pd.DataFrame({"customer_id": ["1", "2"], **columns})
        return {"gold.fct_customer_metrics": frame}

    same = compare_gold
    # Floats within 1e-6 relative, decimals against doubles, dates against timestamps.
    assert same(tables(v=[Decimal("100.000000"), 2.5]), tables(v=[100.00001, 2.5])) == []
    assert same(tables(d=[pd.Timestamp("2024-01-02").date(), None]),
                tables(d=pd.to_datetime(["2024-01-02", None]))) == []
    # Lineage and metadata columns are not compared.
    assert same(tables(layer=["gold", "gold"], _run_id=["a", "b"]), tables(layer=["x", "y"])) == []
    # Differences: beyond the tolerance, integers off by one, null against zero, types, columns.
    assert len(same(tables(v=[100.0, 2.5]), tables(v=[100.001, 2.5]))) == 1
    assert len(same(tables(n=[1_000_000, 3]), tables(n=[1_000_001, 3]))) == 1
    assert len(same(tables(v=[None, 1.0]), tables(v=[0.0, 1.0]))) == 1
    assert len(same(tables(s=["1", "a"]), tables(s=[1, "a"]))) == 1
    assert same(tables(v=[1, 2]), tables(w=[1, 2])) == [
        "gold.fct_customer_metrics: columns only in expected: v",
        "gold.fct_customer_metrics: columns only in actual: w",
    ]
    assert compare_gold(tables(v=[1, 2]), {}) == [
        "gold.fct_customer_metrics: table missing in actual"
    ]
    duplicated = {
        "gold.fct_customer_metrics": pd.DataFrame({"customer_id": ["1", "1"], "v": [1, 2]})
    }
    assert any("duplicate customer_id" in d for d in compare_gold(tables(v=[1, 2]), duplicated))


def test_duckdb_gold_equals_the_script_gold_on_retail_data(spark, tmp_path):
    """On realistic deliveries (guest orders, cancellations, extreme quantities, impossible
    dates, header-only files) the independent DuckDB rules agree with silver's, number for
    number: every rejection and plausibility rule is implemented twice."""
    root = str(tmp_path / "landing")
    generate_landing_zone(
        root, seed=5, order_items=3000, start="2024-01-01", days=30, profile="retail"
    )
    pyspark_script.run(root, str(tmp_path / "lakehouse"), spark=spark)
    expected = gold_tables_from_delta(spark, str(tmp_path / "lakehouse"))
    actual = duckdb_pipeline.run(root, threads=2)
    assert compare_gold(expected, actual) == []
    assert summary(expected) == summary(actual)
    last_orders = expected["gold.fct_customer_metrics"]["last_order_date"].dropna()
    assert str(max(last_orders)) < "2024-02-01"  # the 9999-12-31 order is no one's last order
