"""Every QualityRule of the catalog as a Dagster asset check.

Integrity rules are ``blocking=True`` and fail with severity ERROR (the run's downstream
assets of the table are not materialized); trend and freshness rules warn and do not block.
Each check's metadata carries its counts, a few offending keys and the threshold, so the
UI's check history shows them over time.

Checks on daily-partitioned tables evaluate the run's landing dates only. They are not
partitioned checks themselves: the lakehouse runs a range of partitions in one run
(single-run backfill), so the window comes from the run's partition tags
(``dagster/asset_partition_range_start/end``, or ``dagster/partition``) and is applied as a
literal ``_landing_date`` predicate.
"""

import datetime as dt

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetKey, asset_check

from lakehouse_assets.checks.catalog import ALL_RULES, QualityRule, RuleInputs
from lakehouse_assets.checks.results import RuleResult, describe_failure
from lakehouse_assets.resources import LakehouseStorage, QualitySettings, SparkResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

# Results already computed in this process, per (run, table, check): the summary asset and
# the checks of one run share them instead of evaluating a rule twice (in-process executor).
_EVALUATED: dict[tuple[str, str, str], RuleResult] = {}


def run_window(tags: dict) -> tuple[dt.datetime, dt.datetime] | None:
    """[start, end) of the run's daily partitions, or None for an unpartitioned run."""
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if not start:
        start = end = tags.get("dagster/partition")
    if not start:
        return None
    first = dt.datetime.fromisoformat(start)
    return first, dt.datetime.fromisoformat(end) + dt.timedelta(days=1)


def evaluate(rule: QualityRule, inputs: RuleInputs, run_id: str | None = None) -> RuleResult:
    cache_key = (run_id, rule.table, rule.name)
    if run_id and cache_key in _EVALUATED:
        return _EVALUATED[cache_key]
    result = rule.evaluate(inputs)
    if run_id:
        _EVALUATED[cache_key] = result
    return result


def build_check(rule: QualityRule):
    @asset_check(
        asset=AssetKey(rule.asset_key),
        name=rule.name,
        description=rule.description,
        blocking=rule.blocking,
        additional_deps=[AssetKey(t.split(".")) for t in rule.reads],
    )
    def _check(
        context: AssetCheckExecutionContext,
        spark: SparkResource,
        storage: LakehouseStorage,
        quality: QualitySettings,
    ) -> AssetCheckResult:
        inputs = RuleInputs(
            spark.spark_session, storage, run_window(context.run.tags), quality.thresholds()
        )
        result = evaluate(rule, inputs, context.run.run_id).to_check_result(rule.setting)
        if not result.passed:
            # Every run's log (sensor-started ones too) says why, not only the UI.
            log = context.log.error if rule.blocking else context.log.warning
            log(describe_failure(rule.table, rule.name, result.metadata))
        return result

    return _check


quality_checks = [build_check(rule) for rule in ALL_RULES]
