"""How the lakehouse runs by itself: the automation sensor that carries a new bronze day on to
gold and ML, and the job that builds everything for a range of days in one run."""

import dagster as dg

from lakehouse_assets.sensors import automation_sensor

# Everything, for a partition range in one run (single-run backfill of the daily partitions).
build_lakehouse_job = dg.define_asset_job(
    "build_lakehouse",
    selection=dg.AssetSelection.all(),
    description="Every bronze, silver, gold and ML table for a range of landing dates, in one "
    "run (one SparkSession).",
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[build_lakehouse_job], sensors=[automation_sensor])
