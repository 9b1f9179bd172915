"""The daily partitions of the lakehouse: one partition per landing date.

The start date bounds what the sensors and backfills consider; set LAKEHOUSE_PARTITIONS_START
(YYYY-MM-DD) before loading the definitions to cover older landing dates.
"""

from __future__ import annotations

import datetime as dt
import os

from dagster import DailyPartitionsDefinition

DEFAULT_PARTITIONS_START = "2023-01-01"

PARTITIONS_START = os.environ.get("LAKEHOUSE_PARTITIONS_START", DEFAULT_PARTITIONS_START)

# end_offset=1: today's landing folder is a valid partition as soon as files arrive in it.
daily_partitions = DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone="UTC", end_offset=1
)


def window_dates(start, end) -> list:
    """The calendar dates of a partition time window [start, end)."""
    first, last = start.date(), end.date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days)]


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions ``first`` to ``last`` (inclusive): a
    single-run backfill, for assets whose backfill policy is a single run."""
    return {RANGE_START: first, RANGE_END: last}


def run_window(tags: dict) -> tuple[dt.datetime, dt.datetime] | None:
    """[start, end) of a run's daily partitions (from its tags), None for an unpartitioned run.

    A range of partitions runs as one run (single-run backfill), so checks and steps that are
    not partitioned themselves read the window from the run's tags."""
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if not start:
        start = end = tags.get("dagster/partition")
    if not start:
        return None
    first = dt.datetime.fromisoformat(start)
    return first, dt.datetime.fromisoformat(end) + dt.timedelta(days=1)
