"""RuleResult: what every rule function returns, and its translation to a Dagster check result.

Rule functions are plain functions over DataFrames (testable without Dagster); the asset
checks only wrap their RuleResult into an AssetCheckResult with the same counts.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, DagsterEventType, MetadataValue

ERROR = "ERROR"
WARN = "WARN"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    table: str  # "layer.table" the rule is about
    passed: bool
    rows_checked: int
    rows_failed: int
    threshold: Any
    severity: str = ERROR
    sample_keys: list = field(default_factory=list)
    rows_quarantined: int | None = None
    details: dict = field(default_factory=dict)
    description: str = ""

    def to_check_result(
        self, setting: str | None = None, check: tuple[list[str], str] | None = None
    ) -> AssetCheckResult:
        """The Dagster result; ``setting`` names the quality setting that tunes its limit.
        ``check`` (asset key, check name) is needed where one step evaluates several checks."""
        severity = AssetCheckSeverity.WARN if self.severity == WARN else AssetCheckSeverity.ERROR
        metadata = {
            "rows_checked": MetadataValue.int(int(self.rows_checked)),
            "rows_failed": MetadataValue.int(int(self.rows_failed)),
            "threshold": MetadataValue.text(str(self.threshold)),
            "sample_keys": MetadataValue.json(_jsonable(self.sample_keys)),
        }
        if self.rows_quarantined is not None:
            metadata["rows_quarantined"] = MetadataValue.int(int(self.rows_quarantined))
        if self.details:
            metadata["details"] = MetadataValue.json(_jsonable(self.details))
        if self.description:
            metadata["summary"] = MetadataValue.text(self.description)
        if setting:
            metadata["setting"] = MetadataValue.text(setting)
        target = {"asset_key": AssetKey(check[0]), "check_name": check[1]} if check else {}
        return AssetCheckResult(
            passed=bool(self.passed), severity=severity, metadata=metadata, **target
        )


def describe_failure(table: str, check: str, metadata: Mapping[str, Any]) -> str:
    """A failed check in a few lines for the console: table, rule, counts, keys, limit, and how
    to look closer or change the limit. ``metadata`` is the check result's."""
    from lakehouse_assets.resources.quality import ENV_VARS

    def value(name: str) -> Any:
        item = metadata.get(name)
        return getattr(item, "value", item)

    lines = [
        f"{table} / {check}: {value('rows_failed')} of {value('rows_checked')} rows failed "
        f"(limit: {value('threshold')})"
    ]
    keys = value("sample_keys")
    if keys:
        lines.append(f"  first offending keys: {json.dumps(keys, default=str, sort_keys=True)[:300]}")
    lines.append(
        f"  inspect: the check's history on the asset page of {table.replace('.', '/')} in "
        "`dagster dev` (details, counts per reason), or query the table and its quarantine"
    )
    setting = value("setting")
    if setting:
        lines.append(
            f"  change the limit: {ENV_VARS[setting]}=<value> (or the quality resource's "
            f"{setting}), if the data is right and the limit is not"
        )
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    """Dates and decimals as strings, so MetadataValue.json accepts any rule's details."""
    return json.loads(json.dumps(value, default=str))


def run_failure_summary(run_id: str, check_evaluations, step_failures) -> str:
    """Why a run failed, for the console: every failed check (``AssetCheckEvaluation``s) and
    every failed step (Dagster ``STEP_FAILURE`` events)."""
    lines = [f"Run {run_id} failed."]
    failed = [e for e in check_evaluations if not e.passed]
    if failed:
        lines.append(f"{len(failed)} check(s) failed:")
        lines += [
            describe_failure(".".join(e.asset_key.path), e.check_name, e.metadata) for e in failed
        ]
    for event in step_failures:
        error = event.event_specific_data.error
        message = (error.message if error else "").strip().splitlines()
        lines.append(f"step {event.step_key} failed: {message[0] if message else 'no message'}")
    lines.append("The run's full log and every check's history are in `dagster dev`.")
    return "\n".join(lines)


def recorded_check_evaluations(instance, run_id: str) -> list:
    """Every ``AssetCheckEvaluation`` a run recorded in the instance's event log."""
    return [
        record.dagster_event.event_specific_data
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
