"""The reconciliations between tables written by different steps, as one check step.

Every other rule is audited in the step that writes its table, before the commit
(``assets.factory``). A reconciliation of several tables (daily sales against customer
metrics, product revenue against daily sales) can only be evaluated once all of them are
written, so it runs after them, in this step; it is blocking: the tables downstream of the
table it is attached to do not run when it fails.
"""

from dagster import AssetCheckExecutionContext, AssetCheckSpec, AssetKey, multi_asset_check

from lakehouse_assets.assets.factory import evaluate_rules
from lakehouse_assets.checks.catalog import RECONCILIATION_RULES


@multi_asset_check(
    name="cross_table_reconciliation",
    specs=[
        AssetCheckSpec(
            rule.name,
            asset=AssetKey(rule.asset_key),
            description=rule.description,
            blocking=rule.blocking,
            additional_deps=[AssetKey(t.split(".")) for t in rule.reads],
        )
        for rule in RECONCILIATION_RULES
    ],
    can_subset=True,
    required_resource_keys={"spark", "storage", "quality"},
)
def cross_table_reconciliation(context: AssetCheckExecutionContext):
    selected = context.selected_asset_check_keys
    rules = [r for r in RECONCILIATION_RULES if any(
        k.asset_key == AssetKey(r.asset_key) and k.name == r.name for k in selected
    )]
    for rule, result in evaluate_rules(context, rules, {}):
        yield result.to_check_result(rule.setting, (rule.asset_key, rule.name))


quality_checks = [cross_table_reconciliation]
