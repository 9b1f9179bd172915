"""Sensors: the landing zone starts bronze runs; declarative automation carries them to gold.

``landing_zone_sensor`` watches ``<landing root>/<dataset>/<YYYY-MM-DD>/*.csv`` and requests one
bronze run per landing date whose content changed, for exactly the datasets that changed.

How a change is detected
    Every (dataset, landing date) folder gets a fingerprint over its CSV files' sorted names
    and the sha256 of each file's bytes, so a re-delivered identical file (new mtime, same
    bytes) is not a change while a corrected file is. The cursor keeps the last fingerprints.

    Every tick hashes every file. That is O(bytes in the landing zone) per tick (100 MB takes
    well under a second); we chose it over caching (path, size, mtime) -> sha because an mtime
    cache in the cursor grows with every file ever landed and trusts timestamps that coarse
    file systems and ``cp -p`` make unreliable. If the landing zone grows into the gigabytes,
    add retention to the landing zone (removed folders do not wipe bronze, see below) or raise
    LAKEHOUSE_PARTITIONS_START: folders before the partitions' start are never hashed.

Run keys
    ``run_key = <date>:<key>`` where ``<key>`` chains the date's previous key with the combined
    fingerprint of the date's content. Re-evaluating the same change (a tick that failed before
    its cursor was stored) gives the same key, so Dagster never starts two runs for one change;
    chaining makes content that reverts to an earlier version (A -> B -> A) a new key, which a
    plain content hash would not be: Dagster would drop it as an already used run key and
    bronze would keep B.

Removed files
    A dataset folder that disappears from a date does not request a run: bronze replaces a
    partition with what it finds, so a run would delete the history that a landing-zone
    retention policy removed. It is logged; rematerialize the partition by hand to drop it.
    Files removed from a folder that still has files change its fingerprint and do request a
    run (that is a correction of the delivery).

Producers should write files under a name not ending in ``.csv`` and rename them when
complete: a half-written CSV is a change of its own and will be ingested (then re-ingested).
"""

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence

from dagster import (
    AssetKey,
    DagsterEventType,
    RunFailureSensorContext,
    AssetsDefinition,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimeWindowPartitionsDefinition,
    run_failure_sensor,
    sensor,
)

from lakehouse_assets.assets.bronze import bronze_assets as project_bronze_assets
from lakehouse_assets.checks.results import recorded_check_evaluations, run_failure_summary
from lakehouse_assets.landing import DATASETS, LandingFile, file_sha256, scan_landing_zone
from lakehouse_assets.resources.storage import LakehouseStorage

CURSOR_VERSION = 1
# 12 hex digits (48 bits): only ever compared with the previous fingerprint of the same folder,
# so a collision would need one specific correction to hit 1 in 2.8e14; it keeps the cursor small.
FINGERPRINT_HEX = 12

TAG_PREFIX = "lakehouse"


def _short_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX]


def folder_fingerprint(files: Sequence[LandingFile]) -> str:
    """Fingerprint of one (dataset, date) folder from the names and bytes of its files."""
    lines = sorted(f"{os.path.basename(f.path)}\0{file_sha256(f.path)}" for f in files)
    return _short_sha("\n".join(lines))


def combined_fingerprint(fingerprints: Mapping[str, str]) -> str:
    """Fingerprint of a whole landing date: every dataset's folder fingerprint."""
    return _short_sha("\n".join(f"{ds}={fp}" for ds, fp in sorted(fingerprints.items())))


def _chain(previous_key: str, fingerprints: Mapping[str, str]) -> str:
    return _short_sha(f"{previous_key}>{combined_fingerprint(fingerprints)}")


# Cursor: {"v": 1, "dates": {"2024-01-05": {"key": <last run key part>, "files": {ds: fp}}}}.
# A date whose folders all disappeared keeps its entry (files {}), so that its key chain, and
# with it the guarantee of fresh run keys, survives the gap.
def _load_cursor(context: SensorEvaluationContext) -> dict[str, dict]:
    if not context.cursor:
        return {}
    try:
        state = json.loads(context.cursor)
        if state.get("v") != CURSOR_VERSION:
            raise ValueError(f"cursor version {state.get('v')!r}")
        return {
            date: {"key": str(entry["key"]), "files": dict(entry["files"])}
            for date, entry in state["dates"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # Starting over re-requests every date; run keys of unchanged first deliveries are the
        # same as before, so Dagster skips those runs instead of repeating them.
        context.log.warning(f"Ignoring unreadable landing sensor cursor ({exc}); starting over")
        return {}


def _dump_cursor(dates: Mapping[str, dict]) -> str:
    return json.dumps(
        {"v": CURSOR_VERSION, "dates": dict(sorted(dates.items()))},
        sort_keys=True,
        separators=(",", ":"),
    )


def _in_range(date_key: str, min_date: dt.date, max_date: dt.date | None) -> bool:
    day = dt.date.fromisoformat(date_key)
    return day >= min_date and (max_date is None or day <= max_date)


def _partitions_def(bronze_assets: Sequence[AssetsDefinition]) -> TimeWindowPartitionsDefinition:
    defs = {a.partitions_def for a in bronze_assets}
    if len(defs) != 1 or not isinstance(next(iter(defs)), TimeWindowPartitionsDefinition):
        raise ValueError(
            "The landing sensor needs bronze assets sharing one time-window partitions "
            f"definition; got {defs}"
        )
    return next(iter(defs))  # type: ignore[return-value]


def _asset_keys_by_dataset(
    bronze_assets: Sequence[AssetsDefinition],
) -> dict[str, list[AssetKey]]:
    """Dataset -> every key of its bronze multi-asset (a multi-asset runs as a whole)."""
    by_dataset: dict[str, list[AssetKey]] = {}
    for dataset in DATASETS:
        rows_key = AssetKey(["bronze", dataset])
        for assets_def in bronze_assets:
            if rows_key in assets_def.keys:
                by_dataset[dataset] = sorted(assets_def.keys, key=lambda k: k.to_user_string())
    return by_dataset


def build_landing_sensor(
    bronze_assets: Sequence[AssetsDefinition],
    name: str = "landing_zone_sensor",
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
):
    """The landing sensor for the given bronze multi-assets (one per dataset of the contract).

    Datasets whose bronze asset is not among ``bronze_assets`` are not scanned.
    """
    partitions_def = _partitions_def(bronze_assets)
    keys_by_dataset = _asset_keys_by_dataset(bronze_assets)
    if not keys_by_dataset:
        raise ValueError("None of the given assets is the bronze asset of a landing dataset")
    datasets = tuple(keys_by_dataset)

    @sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        target=list(bronze_assets),
        description=(
            "Watches the landing zone (<landing root>/<dataset>/<YYYY-MM-DD>/*.csv) and requests "
            "one bronze run per landing date whose file contents changed (sha256, not mtime), "
            "for the datasets that changed, partition = landing date. Identical re-deliveries "
            "do nothing; bad folders, symlinks and future dates are skipped with a warning."
        ),
    )
    def _landing_sensor(context: SensorEvaluationContext, storage: LakehouseStorage):
        landing_root = storage.landing
        if not os.path.isdir(landing_root):
            # Keep the cursor: an unmounted landing zone is not a deletion of every file.
            context.log.warning(f"Landing root {landing_root} does not exist")
            return SkipReason(f"Landing root {landing_root} does not exist")

        min_date = partitions_def.start.date()
        last_window = partitions_def.get_last_partition_window()
        max_date = last_window.start.date() if last_window else None

        scan = scan_landing_zone(landing_root, datasets=datasets, min_date=min_date)
        for reason in scan.skipped:
            context.log.warning(f"Skipped {reason}")

        # (date, dataset) -> files; the scan only returns dates from the partitions' start.
        folders: dict[tuple[dt.date, str], list[LandingFile]] = {}
        for f in scan.files:
            folders.setdefault((f.landing_date, f.dataset), []).append(f)

        previous = _load_cursor(context)
        current: dict[str, dict[str, str]] = {}
        unreadable: set[str] = set()
        for (landing_date, dataset), files in sorted(folders.items()):
            date_key = landing_date.isoformat()
            if max_date is not None and landing_date > max_date:
                context.log.warning(
                    f"Skipped {dataset}/{date_key}: after the last partition {max_date}"
                )
                continue
            try:
                fingerprint = folder_fingerprint(files)
            except OSError as exc:
                # Deleted or unreadable between scan and hash: decide next tick, not now.
                context.log.warning(f"Skipped {dataset}/{date_key} this tick: {exc}")
                unreadable.add(date_key)
                continue
            current.setdefault(date_key, {})[dataset] = fingerprint

        state = dict(previous)
        run_requests: list[RunRequest] = []
        for date_key in sorted(set(previous) | set(current)):
            if date_key in unreadable or not _in_range(date_key, min_date, max_date):
                # Unreadable: decide next tick. Out of range (the partitions' start was moved,
                # or a future date): not looked at, so neither a change nor a removal.
                continue
            before = previous.get(date_key, {"key": "", "files": {}})
            now = current.get(date_key, {})
            if now == before["files"]:
                continue
            removed = sorted(set(before["files"]) - set(now))
            if removed:
                context.log.warning(
                    f"Landing folders removed for {date_key}: {', '.join(removed)}; bronze keeps "
                    "their rows (rematerialize the partition to drop them)"
                )
            changed = sorted(ds for ds, fp in now.items() if before["files"].get(ds) != fp)
            if not changed:
                state[date_key] = {"key": before["key"], "files": now}
                continue
            key = _chain(before["key"], now)
            state[date_key] = {"key": key, "files": now}
            # The landing date is the partition's calendar date, whatever its timezone.
            partition_key = dt.date.fromisoformat(date_key).strftime(partitions_def.fmt)
            run_requests.append(
                RunRequest(
                    run_key=f"{date_key}:{key}",
                    partition_key=partition_key,
                    asset_selection=[k for ds in changed for k in keys_by_dataset[ds]],
                    tags={
                        f"{TAG_PREFIX}/trigger": "landing_zone",
                        f"{TAG_PREFIX}/landing_date": date_key,
                        f"{TAG_PREFIX}/datasets": ",".join(changed),
                        f"{TAG_PREFIX}/content": combined_fingerprint(now),
                    },
                )
            )
            context.log.info(f"Landing date {date_key} changed: {', '.join(changed)}")

        cursor = _dump_cursor(state)
        if run_requests:
            return SensorResult(run_requests=run_requests, cursor=cursor)
        return SensorResult(
            skip_reason=SkipReason(
                f"No landing changes ({len(scan.files)} files, {len(scan.skipped)} skipped paths)"
            ),
            cursor=cursor,
        )

    return _landing_sensor


landing_zone_sensor = build_landing_sensor(project_bronze_assets)

# Bronze is started by the landing sensor; everything downstream (silver, gold, ML) carries
# AutomationCondition.eager(), which only this sensor evaluates.
automation_sensor = AutomationConditionSensorDefinition(
    "lakehouse_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=30,
    description=(
        "Evaluates the automation conditions of the lakehouse: silver, gold and ML assets are "
        "AutomationCondition.eager(), so a bronze run started by landing_zone_sensor flows on "
        "to updated gold tables and ML features. Assets without a condition (bronze) are "
        "never requested by it."
    ),
)
"""Declarative automation of everything downstream of bronze.

Silver, gold and ML assets carry ``AutomationCondition.eager()``: they are requested as soon as
an upstream partition updates and none of their parents is missing or in progress. With both
sensors running, dropping a new day's files into the landing zone ends with updated gold tables:
``landing_zone_sensor`` requests the bronze partition of that date, and this sensor requests
silver once bronze has materialized, then gold and ML once silver has. Without it the
``eager()`` conditions are never evaluated (defining it replaces Dagster's default automation
sensor, which would otherwise also target every asset).
"""



@run_failure_sensor(
    name="run_failure_report",
    default_status=DefaultSensorStatus.RUNNING,
    description="Logs why a run of this code location failed (each failed check with its "
    "counts, keys, limit and setting; each failed step), so that the runs the sensors start "
    "explain themselves in the sensor's log as lakehouse-build does on the console.",
)
def run_failure_report(context: RunFailureSensorContext) -> None:
    context.log.error(recorded_failure_summary(context.instance, context.dagster_run.run_id))


def recorded_failure_summary(instance, run_id: str) -> str:
    """``run_failure_summary`` of a run recorded in the instance's event log."""
    return run_failure_summary(
        run_id,
        recorded_check_evaluations(instance, run_id),
        [e.dagster_event for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)],
    )


sensors = [landing_zone_sensor, automation_sensor, run_failure_report]

__all__ = [
    "automation_sensor",
    "build_landing_sensor",
    "combined_fingerprint",
    "folder_fingerprint",
    "landing_zone_sensor",
    "recorded_failure_summary",
    "run_failure_report",
    "sensors",
]
