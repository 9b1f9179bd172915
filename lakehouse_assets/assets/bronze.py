"""Bronze: one multi-asset per landing dataset, daily-partitioned by landing date.

Upstream of each is the external asset ``landing/<dataset>``: the raw files of a landing date,
reported by the landing sensor when they arrive or change. Each bronze step writes three tables: ``bronze.<dataset>`` (every parsed row, typed, with ingestion
metadata), ``bronze.quarantine_<dataset>`` (records that could not be parsed at all) and
``bronze.ledger_<dataset>`` (one row per landing file: hash, counts, status).
"""


import datetime as dt

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MetadataValue, Output

from lakehouse_assets.assets.factory import Table, step
from lakehouse_assets.landing import DATASETS, scan_landing_zone
from lakehouse_assets.partitions import daily_partitions, window_dates
from lakehouse_assets.resources.delta_io_manager import read_table
from lakehouse_assets.transforms.bronze import PreviousIngestion, ingest_files

def landing_key(dataset: str) -> AssetKey:
    return AssetKey(["landing", dataset])


# External assets: Dagster does not write the files, it only learns of them (landing sensor).
landing_specs = [
    AssetSpec(
        landing_key(dataset),
        description=f"The `{dataset}` CSV files of a landing date, as delivered: "
        f"<landing root>/{dataset}/<YYYY-MM-DD>/*.csv. Reported by landing_zone_sensor when a "
        "date's files are new or their content changed (sha256), with the files' fingerprint.",
        partitions_def=daily_partitions,
        group_name="landing",
        kinds={"csv"},
    )
    for dataset in DATASETS
]


def bronze_table_names(dataset: str) -> tuple[str, str, str]:
    return dataset, f"quarantine_{dataset}", f"ledger_{dataset}"


def build_bronze_asset(dataset: str):
    spec = DATASETS[dataset]
    rows_table, quarantine_table, ledger_table = bronze_table_names(dataset)
    tables = [Table("bronze", t, automated=False)
              for t in (rows_table, quarantine_table, ledger_table)]

    # New files are requested by the landing-zone sensor, not by automation.
    @step(f"bronze_{dataset}", tables, deps=[landing_key(dataset)], partitioned=True,
          together=True)
    def _bronze(context: AssetExecutionContext) -> dict:
        session = context.resources.spark.spark_session
        storage = context.resources.storage
        window = context.partition_time_window
        scan = scan_landing_zone(
            storage.landing, datasets=(dataset,), dates=set(window_dates(window.start, window.end))
        )
        for reason in scan.skipped:
            context.log.warning(f"Skipped {reason}")

        def previous(table: str):
            return read_table(
                session, storage.table_path("bronze", table), "_landing_date",
                window.start, window.end,
            )

        ledger = previous(ledger_table)
        batch = ingest_files(
            session,
            spec,
            scan.files,
            PreviousIngestion(
                bronze=previous(rows_table),
                quarantine=previous(quarantine_table),
                ledger=[r.asDict() for r in ledger.collect()] if ledger is not None else [],
            ),
            run_id=context.run.run_id,
            ingested_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        )
        files = {
            "files_loaded": MetadataValue.int(batch.files_loaded),
            "files_unchanged": MetadataValue.int(batch.files_unchanged),
            "files_failed": MetadataValue.int(batch.files_failed),
        }
        return {
            rows_table: Output(batch.bronze, metadata=files),
            quarantine_table: batch.quarantine,
            ledger_table: Output(batch.ledger, metadata=files),
        }

    return _bronze


bronze_assets = [build_bronze_asset(dataset) for dataset in DATASETS]
