"""RuleResult: what every rule function returns, and its translation to a Dagster check result.

Rule functions are plain functions over DataFrames (testable without Dagster); the asset
checks only wrap their RuleResult into an AssetCheckResult with the same counts.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

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

    def to_check_result(self) -> AssetCheckResult:
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
        return AssetCheckResult(passed=bool(self.passed), severity=severity, metadata=metadata)


def _jsonable(value: Any) -> Any:
    """Dates and decimals as strings, so MetadataValue.json accepts any rule's details."""
    return json.loads(json.dumps(value, default=str))
