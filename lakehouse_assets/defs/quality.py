"""Data quality beyond each table's own rules: the cross-table reconciliations, the
gold.data_quality_summary table of every rule's result, and the report of failed runs."""

import dagster as dg

from lakehouse_assets.checks.definitions import quality_checks
from lakehouse_assets.checks.summary import data_quality_summary
from lakehouse_assets.sensors import run_failure_report


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[data_quality_summary], asset_checks=quality_checks, sensors=[run_failure_report]
    )
