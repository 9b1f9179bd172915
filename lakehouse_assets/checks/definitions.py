"""The reconciliations between tables written by different steps, as one check step.

Every other rule is audited in the step that writes its table, before the commit
(``assets.factory``). A reconciliation of several tables (daily sales against customer
metrics, product revenue against daily sales) can only be evaluated once all of them are
written, so it runs after them, in this step; it is blocking: the tables downstream of the
table it is attached to do not run when it fails.
"""

from dagster import AssetCheckExecutionContext, AssetKey, multi_asset_check

from lakehouse_assets.assets.factory import check_spec, evaluate_rules
from lakehouse_assets.checks.table_rules import RECONCILIATION_RULES


@multi_asset_check(
    name="cross_table_reconciliation",
    # Every table a reconciliation reads is written by another step: it waits for all of them.
    specs=[check_spec(rule) for rule in RECONCILIATION_RULES],
    can_subset=True,
    required_resource_keys={"spark", "storage", "quality"},
)
def cross_table_reconciliation(context: AssetCheckExecutionContext):
    selected = context.selected_asset_check_keys
    rules = [r for r in RECONCILIATION_RULES if any(
        k.asset_key == AssetKey(r.asset_key) and k.name == r.name for k in selected
    )]
    yield from (checked for _, checked in evaluate_rules(context, rules, {}))


quality_checks = [cross_table_reconciliation]
