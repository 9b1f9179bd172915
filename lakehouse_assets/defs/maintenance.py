"""Operations: the nightly maintenance job that compacts and vacuums every table."""

import dagster as dg

from lakehouse_assets.maintenance import maintenance_job, maintenance_schedule


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[maintenance_job], schedules=[maintenance_schedule])
