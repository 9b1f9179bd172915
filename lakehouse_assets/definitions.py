"""The code location: every lakehouse table as an asset, with its resources, checks and sensors.

Runs use the in-process executor: all steps of a run share one process and therefore one
SparkSession (one JVM), instead of a JVM per step.
"""

import warnings

from dagster import BetaWarning, Definitions, define_asset_job, in_process_executor

# backfill_policy is marked beta; single-run backfills are what we want for Spark.
warnings.filterwarnings("ignore", category=BetaWarning)

from lakehouse_assets.assets.bronze import bronze_assets, landing_specs  # noqa: E402
from lakehouse_assets.assets.gold.customers import customer_assets  # noqa: E402
from lakehouse_assets.assets.gold.products import product_assets  # noqa: E402
from lakehouse_assets.assets.gold.sales import sales_assets  # noqa: E402
from lakehouse_assets.assets.ml import ml_assets  # noqa: E402
from lakehouse_assets.assets.silver import silver_assets  # noqa: E402
from lakehouse_assets.checks.definitions import quality_checks  # noqa: E402
from lakehouse_assets.checks.summary import data_quality_summary  # noqa: E402
from lakehouse_assets.resources import build_resources  # noqa: E402
from lakehouse_assets.sensors import sensors  # noqa: E402

all_assets = [
    *bronze_assets,
    *silver_assets,
    *customer_assets,
    *product_assets,
    *sales_assets,
    *ml_assets,
    data_quality_summary,
]

# Everything, for a partition range in one run (single-run backfill of the daily partitions).
build_lakehouse_job = define_asset_job(
    "build_lakehouse",
    selection="*",
    description="Every bronze, silver, gold and ML table for a range of landing dates, in one "
    "run (one SparkSession).",
)



def build_definitions(resources: dict | None = None) -> Definitions:
    """The code location; tests pass resources bound to a temporary lakehouse."""
    return Definitions(
        assets=[*landing_specs, *all_assets],
        asset_checks=quality_checks,
        jobs=[build_lakehouse_job],
        sensors=sensors,
        resources=resources or build_resources(),
        executor=in_process_executor,
    )


defs = build_definitions()
