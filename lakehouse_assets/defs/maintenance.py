"""Operations: the nightly maintenance job that compacts and vacuums every table, and the
job that restores a table to an earlier version."""

import dagster as dg

from lakehouse_assets.maintenance import maintenance_job, maintenance_schedule, restore_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[maintenance_job, restore_job], schedules=[maintenance_schedule])
