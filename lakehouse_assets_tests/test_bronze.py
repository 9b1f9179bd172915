"""Bronze ingestion: CSV parsing rules, and real Dagster runs over real landing files."""

import datetime as dt
import os

import pytest
from dagster import materialize

from lakehouse_assets.assets.bronze import bronze_assets
from lakehouse_assets.datagen import generate_landing_zone
from lakehouse_assets.landing import LandingFile
from lakehouse_assets.resources import LakehouseStorage, build_resources
from lakehouse_assets.transforms.bronze import parse_csv

ORDERS_HEADER = "order_id,customer_id,order_date,status,shipping_cost,coupon\n"


def _file(rel="orders/2024-01-05/a.csv"):
    return LandingFile("orders", dt.date(2024, 1, 5), "/nowhere/" + rel, rel, 0)


def test_parse_csv_keeps_every_record_and_explains_rejects():
    content = (
        ORDERS_HEADER
        + "1,10,2024-01-05,pending,5.00,X\n"
        + '2,10,2024-01-05,"multi\nline status",5.00,\n'  # a quoted newline: one record
        + "\n"  # blank line: counted, not a record
        + "3,10,2024-01-05,pending\n"  # too few fields
        + '4,10,2024-01-05,"never closed,5.00,\n'  # unbalanced quote
        + "5,11,2024-01-05,completed,7.50,\r\n"
    ).encode()
    parsed = parse_csv(_file(), content)
    assert [line for line, _ in parsed.rows] == [2, 3, 8]
    assert parsed.rows[1][1]["status"] == "multi\nline status"
    assert [(line, reason) for line, _, reason in parsed.quarantined] == [
        (6, "expected 6 fields, found 4"),
        (7, "malformed CSV: unbalanced quote"),
    ]
    assert parsed.blank_lines == 1 and parsed.records == 5 and parsed.error is None


def test_parse_csv_fails_a_file_that_is_not_utf8():
    parsed = parse_csv(_file(), ORDERS_HEADER.encode() + "1,10,2024-01-05,réglé,1,\n".encode("latin-1"))
    assert parsed.error.startswith("not UTF-8") and parsed.rows == []


def write(root, rel, text, encoding="utf-8"):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)
    return path


@pytest.fixture
def env(spark, tmp_path):
    storage = LakehouseStorage(
        lakehouse_root=str(tmp_path / "lakehouse"), landing_root=str(tmp_path / "landing")
    )
    return storage, build_resources(storage)


def run_bronze(resources, day, dataset="orders"):
    asset = next(a for a in bronze_assets if a.node_def.name == f"bronze_{dataset}")
    return materialize([asset], partition_key=day, resources=resources)


def table(spark, storage, name, layer="bronze"):
    return spark.read.format("delta").load(storage.table_path(layer, name))


def test_bronze_run_loads_rescues_quarantines_and_skips_unchanged_files(spark, env):
    storage, resources = env
    day = "2024-01-05"
    write(storage.landing, f"orders/{day}/a.csv",
          ORDERS_HEADER + "1,10,2024-01-05,pending,5.00,X\n2,10,not-a-date,pending,abc,\n3,10\n")
    write(storage.landing, f"orders/{day}/b.csv", ORDERS_HEADER + "4,12,2024-01-05T10:30:00,completed,1.5,\n")
    write(storage.landing, f"orders/{day}/c.csv", "order_id,status\n9,cancelled\n".encode("utf-8").decode() )
    with open(os.path.join(storage.landing, f"orders/{day}/latin.csv"), "wb") as f:
        f.write(ORDERS_HEADER.encode() + "5,1,2024-01-05,réglé,1,\n".encode("latin-1"))

    assert run_bronze(resources, day).success
    rows = {r["order_id"]: r for r in table(spark, storage, "orders").collect()}
    assert sorted(rows) == ["1", "2", "4", "9"]
    assert rows["1"]["shipping_cost"] == pytest.approx(5) and rows["1"]["_rescued_data"] == '{"coupon":"X"}'
    assert rows["2"]["order_date"] is None and rows["2"]["shipping_cost"] is None
    assert rows["2"]["_rescued_data"] == '{"order_date":"not-a-date","shipping_cost":"abc"}'
    assert rows["4"]["order_date"] == dt.datetime(2024, 1, 5, 10, 30)
    assert rows["9"]["customer_id"] is None  # a missing required column is silver's to reject
    assert rows["1"]["_source_file"] == f"orders/{day}/a.csv" and rows["1"]["_line_number"] == 2
    quarantine = table(spark, storage, "quarantine_orders").collect()
    assert [(q["_source_file"], q["_line_number"], q["raw_line"]) for q in quarantine] == [
        (f"orders/{day}/a.csv", 4, "3,10")
    ]
    ledger = {r["file_path"].rsplit("/", 1)[1]: r for r in table(spark, storage, "ledger_orders").collect()}
    assert {k: v["status"] for k, v in ledger.items()} == {
        "a.csv": "loaded", "b.csv": "loaded", "c.csv": "loaded", "latin.csv": "failed"
    }
    assert ledger["latin.csv"]["error"].startswith("not UTF-8")
    assert (ledger["a.csv"]["records"], ledger["a.csv"]["rows_loaded"], ledger["a.csv"]["lines_quarantined"]) == (3, 2, 1)
    first_ingest = rows["1"]["_ingested_at"]

    # Re-delivering the same bytes changes no row; a corrected file replaces its rows.
    write(storage.landing, f"orders/{day}/a.csv",
          ORDERS_HEADER + "1,10,2024-01-05,pending,5.00,X\n2,10,not-a-date,pending,abc,\n3,10\n")
    write(storage.landing, f"orders/{day}/b.csv", ORDERS_HEADER + "4,12,2024-01-05,cancelled,1.5,\n")
    result = run_bronze(resources, day)
    meta = result.asset_materializations_for_node("bronze_orders")[0].metadata
    assert meta["files_unchanged"].value == 2 and meta["files_loaded"].value == 1
    rows = {r["order_id"]: r for r in table(spark, storage, "orders").collect()}
    assert rows["1"]["_ingested_at"] == first_ingest
    assert rows["4"]["status"] == "cancelled" and len(rows) == 4
    ledger = {r["file_path"].rsplit("/", 1)[1]: r["status"] for r in table(spark, storage, "ledger_orders").collect()}
    assert ledger == {"a.csv": "unchanged", "b.csv": "loaded", "c.csv": "unchanged", "latin.csv": "failed"}


def test_generated_files_with_defects_conserve_every_record(spark, env, tmp_path):
    storage, resources = env
    summary = generate_landing_zone(
        storage.landing, seed=7, order_items=1500, start="2024-01-01", days=4, defect_rate=0.05
    )
    assert sum(summary["defects"].values()) > 0
    for dataset in ("orders", "order_items"):
        assert run_bronze(resources, "2024-01-02", dataset).success
        ledger = table(spark, storage, f"ledger_{dataset}").collect()
        assert ledger, "the day has files"
        loaded = table(spark, storage, dataset).groupBy("_source_file").count().collect()
        quarantined = table(spark, storage, f"quarantine_{dataset}").groupBy("_source_file").count().collect()
        loaded, quarantined = dict(map(tuple, loaded)), dict(map(tuple, quarantined))
        for entry in ledger:
            if entry["status"] == "failed":
                assert loaded.get(entry["file_path"]) is None
                continue
            assert loaded.get(entry["file_path"], 0) == entry["rows_loaded"]
            assert quarantined.get(entry["file_path"], 0) == entry["lines_quarantined"]
            assert entry["rows_loaded"] + entry["lines_quarantined"] == entry["records"]


def _file_counts(spark, storage, dataset="orders"):
    """{file: (bronze rows, quarantined lines, ledger records, status)} from the written tables."""
    def per_file(name):
        df = table(spark, storage, name)
        return dict(map(tuple, df.groupBy("_source_file").count().collect()))

    rows, quarantined = per_file(dataset), per_file(f"quarantine_{dataset}")
    return {
        r["file_path"]: (rows.get(r["file_path"], 0), quarantined.get(r["file_path"], 0),
                         r["records"], r["status"])
        for r in table(spark, storage, f"ledger_{dataset}").collect()
    }


def test_a_header_only_file_loses_no_rows_of_the_files_after_it(spark, env):
    """Regression: an empty Arrow batch (a file without data rows) ended Spark's read of the
    folder, so bronze lost every later file's rows while the ledger said they were loaded."""
    storage, resources = env
    day = "2024-01-05"
    write(storage.landing, f"orders/{day}/a.csv", ORDERS_HEADER + "1,10,2024-01-05,pending,5.00,\n")
    write(storage.landing, f"orders/{day}/b.csv", ORDERS_HEADER)
    write(storage.landing, f"orders/{day}/c.csv", ORDERS_HEADER + "3,10,2024-01-05,pending,5.00,\n")
    write(storage.landing, f"orders/{day}/d.csv", ORDERS_HEADER + "4,10\n")  # all quarantined
    write(storage.landing, f"orders/{day}/e.csv", ORDERS_HEADER + "5,10,2024-01-05,pending,5.00,\n")
    asset = next(a for a in bronze_assets if a.node_def.name == "bronze_orders")
    # The step audits file_conservation on what it is about to write.
    result = materialize([asset], partition_key=day, resources=resources)
    assert result.success
    assert sorted(r["order_id"] for r in table(spark, storage, "orders").collect()) == ["1", "3", "5"]
    assert _file_counts(spark, storage) == {
        f"orders/{day}/a.csv": (1, 0, 1, "loaded"),
        f"orders/{day}/b.csv": (0, 0, 0, "loaded"),
        f"orders/{day}/c.csv": (1, 0, 1, "loaded"),
        f"orders/{day}/d.csv": (0, 1, 1, "loaded"),
        f"orders/{day}/e.csv": (1, 0, 1, "loaded"),
    }
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["file_conservation"].passed
    assert checks["file_conservation"].metadata["rows_checked"].value == 4


def test_file_conservation_counts_the_written_tables_against_the_ledger(spark):
    from lakehouse_assets.checks.integrity import file_conservation

    ledger = spark.createDataFrame(
        [("a.csv", 2), ("b.csv", 1), ("c.csv", 0)], "file_path string, records int"
    )
    bronze = spark.createDataFrame([("a.csv",), ("x.csv",)], "_source_file string")
    quarantine = spark.createDataFrame([("a.csv",), ("b.csv",)], "_source_file string")
    result = file_conservation(bronze, quarantine, ledger, "bronze.orders")
    assert not result.passed
    # a.csv balances (1 + 1 = 2); x.csv has a row but no ledger entry.
    assert result.sample_keys == ["x.csv"] and result.rows_failed == 1
    balanced = file_conservation(bronze.where("_source_file = 'a.csv'"), quarantine, ledger, "t")
    assert balanced.passed and balanced.rows_checked == 3


def test_quoted_file_names_rerun_and_long_fields_parse(spark, env):
    storage, resources = env
    day = "2024-01-05"
    long_status = "x" * 2_000_000  # over the csv module's default field limit of 128 KiB
    write(storage.landing, f"orders/{day}/o'brien.csv", ORDERS_HEADER + "1,10,2024-01-05,pending,5.00,\n")
    write(storage.landing, f"orders/{day}/long.csv", ORDERS_HEADER + f"2,10,2024-01-05,{long_status},5.00,\n")
    assert run_bronze(resources, day).success
    result = run_bronze(resources, day)  # unchanged files: carried over by file name
    assert result.success
    rows = {r["order_id"]: r for r in table(spark, storage, "orders").collect()}
    assert sorted(rows) == ["1", "2"] and len(rows["2"]["status"]) == 2_000_000
    assert table(spark, storage, "quarantine_orders").count() == 0
    assert {s for *_, s in _file_counts(spark, storage).values()} == {"unchanged"}


def test_timestamps_no_delta_reader_can_hold_are_rescued_as_text(spark, env):
    storage, resources = env
    day = "2024-01-05"
    write(storage.landing, f"orders/{day}/a.csv", ORDERS_HEADER
          + "1,10,9999-12-31,pending,5.00,\n2,10,1850-01-01,pending,5.00,\n3,10,2199-12-31,pending,5.00,\n")
    assert run_bronze(resources, day).success
    rows = {r["order_id"]: r for r in table(spark, storage, "orders").collect()}
    assert rows["1"]["order_date"] is None and rows["1"]["_rescued_data"] == '{"order_date":"9999-12-31"}'
    assert rows["2"]["order_date"] is None and rows["3"]["order_date"] == dt.datetime(2199, 12, 31)
    # The table is readable by a reader with nanosecond timestamps (pyarrow via delta-rs).
    from deltalake import DeltaTable

    assert DeltaTable(storage.table_path("bronze", "orders")).to_pyarrow_table().num_rows == 3
