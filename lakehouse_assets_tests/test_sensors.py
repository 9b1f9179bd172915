"""The landing sensor against real files, evaluated as the Dagster daemon would (evaluate_tick).

No Spark: the sensor only scans and hashes files; run requests are resolved against the real
bronze assets' partitions and asset graph.
"""

import datetime as dt
import json
import logging
import os
import shutil

import pytest
from dagster import AssetKey, DagsterInstance, Definitions, build_sensor_context

from lakehouse_assets.assets.bronze import bronze_assets
from lakehouse_assets_tests.conftest import DATA_SEEDS
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import LakehouseStorage, build_resources
from lakehouse_assets.sensors import (
    automation_sensor,
    build_landing_sensor,
    landing_zone_sensor,
)

START = daily_partitions.start.date()
DAY = (START + dt.timedelta(days=10)).isoformat()
OTHER_DAY = (START + dt.timedelta(days=11)).isoformat()
LATER_DAY = (START + dt.timedelta(days=20)).isoformat()
ORDERS_KEYS = {AssetKey(["bronze", t]) for t in ("orders", "quarantine_orders", "ledger_orders")}
CUSTOMERS_KEYS = {
    AssetKey(["bronze", t]) for t in ("customers", "quarantine_customers", "ledger_customers")
}

ORDERS_CSV = "order_id,customer_id,order_date,status,shipping_cost\n1,7,2024-01-05,paid,4.5\n"
CUSTOMERS_CSV = (
    "customer_id,email,first_name,last_name,country,created_at\n7,a@b.c,A,B,FR,2024-01-01\n"
)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def landing(tmp_path):
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def tick(tmp_path, landing, instance):
    """tick(cursor, landing_root=None, lakehouse_root=None) -> (SensorExecutionData, warnings)."""
    sensor_def = build_landing_sensor(bronze_assets)

    def run(cursor=None, landing_root=None, lakehouse_root=None):
        storage = LakehouseStorage(
            landing_root=str(landing_root or landing),
            lakehouse_root=str(lakehouse_root or tmp_path / "lake"),
        )
        context = build_sensor_context(
            cursor=cursor,
            resources={"storage": storage},
            instance=instance,
            definitions=Definitions(
                assets=bronze_assets, sensors=[sensor_def], resources=build_resources(storage)
            ),
        )
        records = _Records()
        context.log.addHandler(records)
        data = sensor_def.evaluate_tick(context)
        return data, records.warnings()

    return run


def land(landing, dataset, day, name, text):
    folder = landing / dataset / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_new_file_requests_one_run_for_its_date_and_dataset(tick, landing):
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)

    data, warnings = tick()

    assert data.skip_message is None and warnings == []
    [request] = data.run_requests
    assert request.partition_key == DAY
    date, key = request.run_key.split(":")
    assert date == DAY and len(key) == 12
    assert set(request.asset_selection) == ORDERS_KEYS
    assert request.tags["lakehouse/landing_date"] == DAY
    assert request.tags["lakehouse/datasets"] == "orders"
    assert request.tags["dagster/partition"] == DAY  # resolved against the real bronze job
    assert json.loads(data.cursor)["dates"][DAY]["files"].keys() == {"orders"}
    # The files' arrival is in the lineage: landing/orders materialized for the date.
    [arrival] = data.asset_events
    assert arrival.asset_key == AssetKey(["landing", "orders"]) and arrival.partition == DAY
    assert arrival.metadata["files"].value == 1
    assert arrival.metadata["paths"].value == [f"orders/{DAY}/orders.csv"]
    assert arrival.metadata["content_key"].value == key


def test_no_change_skips_and_keeps_the_cursor(tick, landing):
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    first, _ = tick()

    second, _ = tick(first.cursor)

    assert second.run_requests == []
    assert second.skip_message.startswith("No landing changes")
    assert second.cursor == first.cursor


def test_identical_redelivery_is_not_a_change(tick, landing):
    path = land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    first, _ = tick()

    path.write_bytes(ORDERS_CSV.encode())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns + 10**10, stat.st_mtime_ns + 10**10))
    second, _ = tick(first.cursor)

    assert second.run_requests == [] and second.cursor == first.cursor


def test_corrected_file_requests_a_new_run(tick, landing):
    path = land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    first, _ = tick()

    path.write_text(ORDERS_CSV.replace("4.5", "5.5"))
    second, _ = tick(first.cursor)

    [before], [after] = first.run_requests, second.run_requests
    assert after.partition_key == DAY and set(after.asset_selection) == ORDERS_KEYS
    assert after.run_key != before.run_key and after.run_key.startswith(f"{DAY}:")
    third, _ = tick(second.cursor)
    assert third.run_requests == []


def test_content_reverting_to_an_earlier_version_gets_a_fresh_run_key(tick, landing):
    # Dagster drops a run key it has seen: a revert (A -> B -> A) must not reuse A's key.
    path = land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    first, _ = tick()
    path.write_text(ORDERS_CSV.replace("4.5", "5.5"))
    second, _ = tick(first.cursor)
    path.write_text(ORDERS_CSV)
    third, _ = tick(second.cursor)

    keys = [d.run_requests[0].run_key for d in (first, second, third)]
    assert len(set(keys)) == 3
    assert third.run_requests[0].tags["lakehouse/content"] == (
        first.run_requests[0].tags["lakehouse/content"]
    )


def test_same_tick_without_stored_cursor_repeats_the_run_key(tick, landing):
    # A tick that failed before storing its cursor is evaluated again: same key, no second run.
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    assert tick()[0].run_requests[0].run_key == tick()[0].run_requests[0].run_key


def test_two_datasets_on_one_date_make_one_run(tick, landing):
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    land(landing, "customers", DAY, "customers.csv", CUSTOMERS_CSV)
    land(landing, "orders", LATER_DAY, "orders.csv", ORDERS_CSV)  # not the next day

    data, _ = tick()

    by_date = {r.partition_key: r for r in data.run_requests}
    assert sorted(by_date) == [DAY, LATER_DAY]
    assert set(by_date[DAY].asset_selection) == ORDERS_KEYS | CUSTOMERS_KEYS
    assert by_date[DAY].tags["lakehouse/datasets"] == "customers,orders"
    assert set(by_date[LATER_DAY].asset_selection) == ORDERS_KEYS

    # Later only customers changes on DAY: the run selects customers alone.
    land(landing, "customers", DAY, "customers.csv", CUSTOMERS_CSV + "8,x@y.z,C,D,DE,2024-01-02\n")
    [request] = tick(data.cursor)[0].run_requests
    assert request.partition_key == DAY and set(request.asset_selection) == CUSTOMERS_KEYS


def test_a_burst_of_consecutive_dates_is_one_range_run(tick, landing):
    days = [(START + dt.timedelta(days=10 + i)).isoformat() for i in range(5)]
    for day in days:
        land(landing, "orders", day, "orders.csv", ORDERS_CSV)
    land(landing, "customers", days[2], "customers.csv", CUSTOMERS_CSV)
    land(landing, "orders", LATER_DAY, "orders.csv", ORDERS_CSV)

    data, _ = tick()

    burst, alone = sorted(data.run_requests, key=lambda r: r.run_key)
    # One single-run backfill over the five days, for every dataset changed in them.
    assert burst.partition_key is None
    assert len(data.asset_events) == 5 + 1 + 1  # one per changed (dataset, date)
    assert burst.tags["dagster/asset_partition_range_start"] == days[0]
    assert burst.tags["dagster/asset_partition_range_end"] == days[-1]
    assert burst.tags["lakehouse/landing_date"] == f"{days[0]}..{days[-1]}"
    assert burst.run_key.startswith(f"{days[0]}..{days[-1]}:")
    assert set(burst.asset_selection) == ORDERS_KEYS | CUSTOMERS_KEYS
    assert alone.partition_key == LATER_DAY and set(alone.asset_selection) == ORDERS_KEYS
    # Re-evaluated from the same cursor (a tick whose cursor was not stored), the same key.
    assert sorted(r.run_key for r in tick()[0].run_requests) == [burst.run_key, alone.run_key]
    assert json.loads(data.cursor)["dates"].keys() == {*days, LATER_DAY}


def test_bad_paths_are_skipped_with_warnings(tick, landing, tmp_path):
    outside = tmp_path / "outside"
    (outside / "products" / DAY).mkdir(parents=True)
    (outside / "products" / DAY / "products.csv").write_text("product_id\n1\n")
    secret = outside / "secret.csv"
    secret.write_text(ORDERS_CSV)

    land(landing, "orders", "not-a-date", "orders.csv", ORDERS_CSV)
    land(landing, "orders", "2024-13-45", "orders.csv", ORDERS_CSV)
    land(landing, "orders", (START - dt.timedelta(days=1)).isoformat(), "o.csv", ORDERS_CSV)
    (landing / "orders" / DAY).mkdir(parents=True)
    os.symlink(secret, landing / "orders" / DAY / "linked.csv")  # symlinked file
    os.symlink(outside, landing / "orders" / OTHER_DAY)  # symlinked date folder
    os.symlink("../outside/products", landing / "products")  # ../ escape of a dataset folder
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    land(landing, "customers", future, "customers.csv", CUSTOMERS_CSV)

    data, warnings = tick()

    assert data.run_requests == [] and data.skip_message
    text = "\n".join(warnings)
    assert "orders/not-a-date: not a YYYY-MM-DD folder" in text
    assert "orders/2024-13-45: not a YYYY-MM-DD folder" in text
    assert f"before the partitions' start {START}" in text
    assert f"orders/{DAY}/linked.csv: symlinks are not followed" in text
    assert f"orders/{OTHER_DAY}: symlinks are not followed" in text
    assert f"products/{DAY}: resolves outside the landing root" in text
    assert f"customers/{future}: after the last partition" in text
    assert json.loads(data.cursor)["dates"] == {}


def test_removed_folder_does_not_request_a_run(tick, landing):
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    path = land(landing, "customers", DAY, "customers.csv", CUSTOMERS_CSV)
    first, _ = tick()

    path.unlink()
    second, warnings = tick(first.cursor)

    assert second.run_requests == []
    assert any("removed" in w and "customers" in w for w in warnings)
    # Back again with the same bytes: a change for that dataset, with a fresh run key.
    land(landing, "customers", DAY, "customers.csv", CUSTOMERS_CSV)
    [request] = tick(second.cursor)[0].run_requests
    assert set(request.asset_selection) == CUSTOMERS_KEYS
    assert request.run_key != first.run_requests[0].run_key


def test_missing_landing_root_skips(tick, tmp_path):
    data, warnings = tick(cursor='{"v":1,"dates":{}}', landing_root=tmp_path / "nowhere")

    assert data.run_requests == [] and "does not exist" in data.skip_message
    assert data.cursor == '{"v":1,"dates":{}}'
    assert any("does not exist" in w for w in warnings)


def test_unreadable_cursor_starts_over(tick, landing):
    land(landing, "orders", DAY, "orders.csv", ORDERS_CSV)
    data, warnings = tick("not json")
    assert len(data.run_requests) == 1 and any("cursor" in w for w in warnings)


def test_after_a_build_the_first_tick_requests_nothing_until_files_change(
    tick, seeded_lakehouse, tmp_path
):
    """The lakehouse built by the README's main command from data_seeds: the sensor, turned on
    without a cursor, starts from the bronze ledgers (read with delta-rs) instead of requesting
    every landing date again."""
    landing = tmp_path / "data_seeds"  # same files, same bytes, as the build read
    shutil.copytree(DATA_SEEDS, landing)
    built = seeded_lakehouse.storage.root

    first, _ = tick(landing_root=landing, lakehouse_root=built)

    assert first.run_requests == [] and "No landing changes" in first.skip_message
    assert len(json.loads(first.cursor)["dates"]) == len(
        {p.name for p in landing.glob("*/*") if p.is_dir()}
    )
    # Corrections land for two consecutive days (orders) and one of them (customers): one run.
    for dataset in ("orders", "customers"):
        for day in ("2023-01-07", "2023-01-08")[: 2 if dataset == "orders" else 1]:
            [path] = (landing / dataset / day).glob("*.csv")
            path.write_text(path.read_text() + "\n")  # different bytes
    [request] = tick(first.cursor, landing_root=landing, lakehouse_root=built)[0].run_requests
    assert request.tags["lakehouse/landing_date"] == "2023-01-07..2023-01-08"
    assert set(request.asset_selection) == ORDERS_KEYS | CUSTOMERS_KEYS


def test_the_lineage_starts_at_the_landing_files():
    from dagster import AssetSelection

    from lakehouse_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    for dataset in ("customers", "products", "orders", "order_items"):
        landing = graph.get(AssetKey(["landing", dataset]))
        assert not landing.is_executable  # external: Dagster learns of the files, never writes
        assert landing.partitions_def == daily_partitions
        assert AssetKey(["landing", dataset]) in graph.get(AssetKey(["bronze", dataset])).parent_keys
    downstream = AssetSelection.assets(AssetKey(["landing", "orders"])).downstream().resolve(graph)
    for key in (["silver", "stg_orders"], ["gold", "fct_customer_metrics"],
                ["ml", "ml_customer_features"]):
        assert AssetKey(key) in downstream, key


def test_module_sensors():
    from lakehouse_assets.definitions import defs as code_location

    assert sorted(s.name for s in code_location.sensors) == [
        "lakehouse_automation", "landing_zone_sensor", "run_failure_report"
    ]
    assert landing_zone_sensor.minimum_interval_seconds == 30
    assert landing_zone_sensor.required_resource_keys == {"storage"}
    assert automation_sensor.description
    defs = Definitions(
        assets=bronze_assets, sensors=code_location.sensors, resources=build_resources()
    )
    Definitions.validate_loadable(defs)  # targets and the storage resource param resolve
