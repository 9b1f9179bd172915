"""Sensors: the landing zone starts bronze runs; declarative automation carries them to gold.

``landing_zone_sensor`` watches ``<landing root>/<dataset>/<YYYY-MM-DD>/*.csv`` and requests
bronze runs for the landing dates whose content changed, for exactly the datasets that changed:
one run per stretch of consecutive changed dates (a single-run backfill of their range), so a
burst of deliveries is one run and one JVM, not one per date. With the runs it reports each
changed (dataset, date) as a materialization of the external asset ``landing/<dataset>``, so the
lineage starts at the files and the UI shows when each day's files arrived.

Bronze is started by these run requests, not by an automation condition on the landing assets:
a run key makes one change one run even when a tick is evaluated twice (see Run keys), which
an automation condition reacting to the landing events could not promise.

Where it starts
    With no cursor (the sensor's first tick, or a cursor it cannot read) it starts from what
    bronze already holds: every ingested file's content hash is in ``bronze.ledger_<dataset>``,
    read with delta-rs (no Spark). After ``lakehouse-build`` the first tick therefore requests
    nothing until a file changes.

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
    ``run_key = <date>:<key>`` (``<first>..<last>:<key of their keys>`` for a range) where ``<key>`` chains the date's previous key with the combined
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from dagster import (
    AssetKey,
    AssetMaterialization,
    MetadataValue,
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
from lakehouse_assets.assets.bronze import bronze_table_names, landing_key
from lakehouse_assets.checks.results import recorded_check_evaluations, run_failure_summary
from lakehouse_assets.landing import DATASETS, LandingFile, file_sha256, scan_landing_zone
from lakehouse_assets.partitions import range_tags
from lakehouse_assets.resources.storage import LakehouseStorage, local_delta_table

CURSOR_VERSION = 1
# 12 hex digits (48 bits): only ever compared with the previous fingerprint of the same folder,
# so a collision would need one specific correction to hit 1 in 2.8e14; it keeps the cursor small.
FINGERPRINT_HEX = 12

TAG_PREFIX = "lakehouse"


def _short_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX]


def folder_fingerprint(files: Sequence[LandingFile]) -> str:
    """Fingerprint of one (dataset, date) folder from the names and bytes of its files."""
    return _fingerprint_of((f.path, file_sha256(f.path)) for f in files)


def _fingerprint_of(files: Iterable[tuple[str, str]]) -> str:
    """Fingerprint of a folder's (path, sha256) pairs: only each file's name counts, so the
    landing zone's files and the ledger's relative paths agree."""
    return _short_sha("\n".join(sorted(f"{os.path.basename(p)}\0{sha}" for p, sha in files)))


def combined_fingerprint(fingerprints: Mapping[str, str]) -> str:
    """Fingerprint of a whole landing date: every dataset's folder fingerprint."""
    return _short_sha("\n".join(f"{ds}={fp}" for ds, fp in sorted(fingerprints.items())))


def _chain(previous_key: str, fingerprints: Mapping[str, str]) -> str:
    return _short_sha(f"{previous_key}>{combined_fingerprint(fingerprints)}")


# Cursor: {"v": 1, "dates": {"2024-01-05": {"key": <last run key part>, "files": {ds: fp}}}}.
# A date whose folders all disappeared keeps its entry (files {}), so that its key chain, and
# with it the guarantee of fresh run keys, survives the gap.
def _load_cursor(context: SensorEvaluationContext) -> dict[str, dict] | None:
    """The cursor's dates; None when there is no cursor or it cannot be read."""
    if not context.cursor:
        return None
    try:
        state = json.loads(context.cursor)
        if state.get("v") != CURSOR_VERSION:
            raise ValueError(f"cursor version {state.get('v')!r}")
        return {
            date: {"key": str(entry["key"]), "files": dict(entry["files"])}
            for date, entry in state["dates"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        context.log.warning(
            f"Ignoring unreadable landing sensor cursor ({exc}); starting from the bronze ledgers"
        )
        return None


def ledger_state(storage: LakehouseStorage, datasets: Iterable[str]) -> dict[str, dict]:
    """The cursor that describes what bronze already holds, read from its ledgers.

    Every file bronze ingested (loaded, unchanged or failed) has a ledger row with its relative
    path and sha256, so each (dataset, date) folder's fingerprint is the one the sensor would
    compute from the same files; the key is the one its first run would have had. A file that
    could not be read has no hash in the ledger, so its folder counts as changed and is retried.
    Read with delta-rs (dagster-deltalake), because a sensor has no Spark session.
    """
    if not storage.is_local:
        return {}  # object storage: needs the store's credentials; start from the landing zone
    files: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for dataset in datasets:
        path = storage.table_path("bronze", bronze_table_names(dataset)[2])
        if not os.path.isdir(os.path.join(path, "_delta_log")):
            continue  # never ingested
        rows = local_delta_table(path).to_pyarrow_table(
            columns=["_landing_date", "file_path", "content_hash"]
        )
        for row in rows.to_pylist():
            folder = files.setdefault(row["_landing_date"].isoformat(), {})
            folder.setdefault(dataset, []).append((row["file_path"], row["content_hash"] or ""))
    state = {}
    for date_key, folders in files.items():
        fingerprints = {ds: _fingerprint_of(pairs) for ds, pairs in folders.items()}
        state[date_key] = {"key": _chain("", fingerprints), "files": fingerprints}
    return state


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


@dataclass(frozen=True)
class _Change:
    """A landing date whose content changed: the datasets that changed and its new key."""

    day: dt.date
    datasets: list[str]
    key: str
    files: Mapping[str, str]


def _consecutive(changes: Sequence[_Change]) -> list[list[_Change]]:
    """Changes (sorted by date) split into stretches of consecutive days."""
    return [
        [change for _, change in stretch]
        for _, stretch in groupby(enumerate(changes), lambda ic: ic[1].day.toordinal() - ic[0])
    ]


def _run_request(
    stretch: Sequence[_Change],
    partitions_def: TimeWindowPartitionsDefinition,
    keys_by_dataset: Mapping[str, list[AssetKey]],
) -> RunRequest:
    """One bronze run for a stretch of consecutive changed dates: a single partition, or a
    single-run backfill of the range, for every dataset that changed on any of its dates (a
    dataset unchanged on one of those dates is re-read from its ledger, not re-parsed)."""
    datasets = sorted({ds for change in stretch for ds in change.datasets})
    # The landing date is the partition's calendar date, whatever its timezone.
    first, last = (c.day.strftime(partitions_def.fmt) for c in (stretch[0], stretch[-1]))
    days = stretch[0].day.isoformat()
    if len(stretch) > 1:
        days += f"..{stretch[-1].day.isoformat()}"
    # Deterministic from the cursor and the files: a re-evaluated tick repeats it exactly.
    key = stretch[0].key if len(stretch) == 1 else _short_sha(",".join(c.key for c in stretch))
    content = {f"{c.day.isoformat()}/{ds}": fp for c in stretch for ds, fp in c.files.items()}
    tags = {
        f"{TAG_PREFIX}/trigger": "landing_zone",
        f"{TAG_PREFIX}/landing_date": days,  # YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD for a range
        f"{TAG_PREFIX}/datasets": ",".join(datasets),
        f"{TAG_PREFIX}/content": combined_fingerprint(content),
    }
    selection = [k for ds in datasets for k in keys_by_dataset[ds]]
    if len(stretch) == 1:
        return RunRequest(run_key=f"{days}:{key}", partition_key=first,
                          asset_selection=selection, tags=tags)
    return RunRequest(
        run_key=f"{days}:{key}",
        asset_selection=selection,
        tags={**tags, **range_tags(first, last)},
    )


def _landing_event(change: _Change, dataset: str, files: Sequence[LandingFile]):
    return AssetMaterialization(
        asset_key=landing_key(dataset),
        partition=change.day.isoformat(),
        description=f"{len(files)} file(s) of {dataset} for {change.day} new or changed",
        metadata={
            "files": MetadataValue.int(len(files)),
            "bytes": MetadataValue.int(sum(f.size for f in files)),
            "paths": MetadataValue.json(sorted(f.relative_path for f in files)),
            "fingerprint": change.files[dataset],  # names and sha256 of the files
            "content_key": change.key,  # the date's chained key, also in the run key
        },
    )


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
            "bronze runs for the landing dates whose file contents changed (sha256, not mtime), "
            "for the datasets that changed: one run per stretch of consecutive changed dates "
            "(a single-run backfill of their range). Starts from the bronze ledgers, so after "
            "a build nothing is requested until a file changes. Identical re-deliveries do "
            "nothing; bad folders, symlinks and future dates are skipped with a warning."
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
        if previous is None:
            previous = ledger_state(storage, datasets)
            context.log.info(f"Starting from the bronze ledgers: {len(previous)} landing dates")
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
        changes: list[_Change] = []
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
            changes.append(_Change(dt.date.fromisoformat(date_key), changed, key, now))
            context.log.info(f"Landing date {date_key} changed: {', '.join(changed)}")

        run_requests = [
            _run_request(stretch, partitions_def, keys_by_dataset)
            for stretch in _consecutive(changes)
        ]
        # The files' arrival in the lineage: landing/<dataset> is updated for the date.
        arrivals = [
            _landing_event(change, dataset, folders[(change.day, dataset)])
            for change in changes for dataset in change.datasets
        ]
        cursor = _dump_cursor(state)
        if run_requests:
            return SensorResult(run_requests=run_requests, asset_events=arrivals, cursor=cursor)
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


__all__ = [
    "automation_sensor",
    "build_landing_sensor",
    "combined_fingerprint",
    "folder_fingerprint",
    "landing_zone_sensor",
    "recorded_failure_summary",
    "run_failure_report",
]
