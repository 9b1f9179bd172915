"""One way to declare the steps that write lakehouse tables: write, audit, publish.

A step is a multi-asset that computes one or more tables (``Table``) and:

1. computes each table's DataFrame and caches it once (a frame several outputs read is cached
   with ``cached_for_step``); every cache is released once the step has published;
2. audits it: every quality rule of the step's tables (``checks.table_rules``) is evaluated on
   what the Delta table will hold after the write (``resources.delta_io_manager.pending_write``),
   before anything is committed; each rule is a check of its table (``check_specs``). A
   table's key and the rules that count its rows are evaluated in one aggregation;
3. publishes: only when no blocking rule failed are the outputs handed to the Delta IO manager,
   which commits them. Otherwise nothing is committed (every table stays at its previous
   version for every reader), Dagster fails the step and downstream tables do not run.

Steps are subsettable: selecting only a table's checks (``dagster asset check``, or the UI's
"Execute" on a check) evaluates them against the stored tables, without writing anything.

``table_asset`` and ``tables_step`` declare gold, silver and ML tables from plain transforms:
the step's inputs are the transforms' parameter names, which are table names.
"""

import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from contextvars import ContextVar
from dataclasses import dataclass

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    AutomationCondition,
    BackfillPolicy,
    BetaWarning,
    Failure,
    Output,
    multi_asset,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.columns import COLUMN_DESCRIPTIONS
from lakehouse_assets.checks.table_rules import QualityRule, RuleInputs, evaluate_all, rules_of
from lakehouse_assets.checks.results import describe_failure
from lakehouse_assets.partitions import daily_partitions, run_window
from lakehouse_assets.resources.delta_io_manager import pending_write, revisited_dates
from lakehouse_assets.tables import TableSpec, table_spec

# Partitioned steps run a range of days in one run (BackfillPolicy.single_run: one Spark job per
# table, not one per day); Dagster marks that parameter beta. Only its warning is silenced.
warnings.filterwarnings(
    "ignore", message="Parameter `backfill_policy`", category=BetaWarning
)

# Downstream tables follow their inputs without manual steps once the automation sensor runs.
# eager() alone only updates the latest daily partition and waits while any parent partition
# is missing. Landing days arrive late or not at all (no files, no partition), so here every
# partition whose parents update follows, and a table over all days does not wait for days
# that never landed.
AUTOMATION = AutomationCondition.eager().without(
    AutomationCondition.in_latest_time_window()
).without(~AutomationCondition.any_deps_missing())

TABLE_KINDS = {"spark", "delta"}

# Every table of the lakehouse by its name (table names are unique across layers).
TABLE_NAMES = {name.split(".", 1)[1]: name for name in COLUMN_DESCRIPTIONS}


@dataclass(frozen=True)
class Table:
    """A table a step writes, ``[layer, name]``. What it holds, its columns, key and write mode
    are declared in ``lakehouse_assets.tables``."""

    layer: str
    name: str
    automated: bool = True  # follows its inputs under the automation sensor

    @property
    def full_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def spec(self) -> TableSpec:
        return table_spec(self.full_name)

    @property
    def write(self) -> dict:
        """The Delta IO manager's merge metadata (empty: replaced whole)."""
        return self.spec.write_metadata

    @property
    def key(self) -> AssetKey:
        return AssetKey([self.layer, self.name])

    def out(self) -> AssetOut:
        return AssetOut(
            key=self.key,
            description=self.spec.description,
            metadata=self.spec.asset_metadata,
            group_name=self.layer,
            kinds=TABLE_KINDS,
            automation_condition=AUTOMATION if self.automated else None,
            # Not yielded when a blocking rule fails: nothing is committed.
            is_required=False,
        )


def check_spec(rule: QualityRule, written: Set[str] = frozenset()) -> AssetCheckSpec:
    """The check of ``rule`` in a step writing the tables ``written``."""
    return AssetCheckSpec(
        rule.name,
        asset=AssetKey(rule.asset_key),
        description=rule.description,
        blocking=rule.blocking,
        # Tables the rule reads besides the step's own: the step waits for them.
        additional_deps=[AssetKey(t.split(".")) for t in rule.reads if t not in written],
    )


def _blocks(rule: QualityRule, result) -> bool:
    return rule.blocking and not result.passed and result.severity == AssetCheckSeverity.ERROR.value


def evaluate_rules(
    context: AssetExecutionContext, rules: Sequence[QualityRule], pending: dict
) -> Iterator[tuple[bool, AssetCheckResult]]:
    """Evaluate ``rules`` (against ``pending`` writes, else the stored tables): yields
    ``(blocks, check result)`` per rule and logs every failure in the run's log."""
    resources = context.resources
    inputs = RuleInputs(
        resources.spark.spark_session, resources.storage, run_window(context.run.tags),
        resources.quality.thresholds(), pending,
    )
    for rule, result in zip(rules, evaluate_all(rules, inputs)):
        checked = result.to_check_result(rule.setting, (rule.asset_key, rule.name))
        blocks = _blocks(rule, result)
        if not result.passed:
            # Every run's log (sensor-started ones too) says why, not only the UI.
            log = context.log.error if blocks else context.log.warning
            log(describe_failure(rule.table, rule.name, checked.metadata))
        yield blocks, checked


# The frames a running step keeps cached until it has published (``cached_for_step``).
_held: ContextVar[list[DataFrame] | None] = ContextVar("held_for_step", default=None)


def cached_for_step(df: DataFrame) -> DataFrame:
    """``df``, cached until the step has published its outputs: for a frame that several of a
    step's outputs are computed from (else each output computes it again)."""
    held = _held.get()
    if held is None:
        raise RuntimeError("cached_for_step caches for a step's compute; call it from one.")
    df = df.persist()
    held.append(df)
    return df


def step(
    name: str,
    tables: Sequence[Table],
    *,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Sequence[AssetKey] = (),
    partitioned: bool = False,
    together: bool = False,
):
    """Decorate ``compute(context, **inputs) -> {table name: DataFrame | Output}`` into the
    step writing ``tables`` with write, audit, publish. ``together``: the tables come from one
    classification and are only written all at once."""
    by_name = {t.name: t for t in tables}
    written = {t.full_name for t in tables}
    rules = [rule for t in tables for rule in rules_of(t.full_name)]

    def decorate(compute: Callable[..., Mapping]):
        @multi_asset(
            name=name,
            outs={t.name: t.out() for t in tables},
            ins=dict(ins or {}),
            deps=list(deps),
            check_specs=[check_spec(rule, written) for rule in rules],
            can_subset=True,
            partitions_def=daily_partitions if partitioned else None,
            backfill_policy=BackfillPolicy.single_run() if partitioned else None,
            required_resource_keys={"spark", "storage", "quality"},
        )
        def _step(context: AssetExecutionContext, **inputs):
            selected = [t for t in tables if t.key in context.selected_asset_keys]
            checks = [
                r for r in rules
                if AssetCheckKey(AssetKey(r.asset_key), r.name) in context.selected_asset_check_keys
            ]
            if not selected:  # only checks selected: audit the stored tables
                yield from (checked for _, checked in evaluate_rules(context, checks, {}))
                return
            if together and len(selected) < len(tables):
                raise Failure(
                    f"{name} writes {', '.join(t.full_name for t in tables)} together (they come "
                    "from one pass over the same input); select all of them."
                )
            held: list[DataFrame] = []
            _held.set(held)
            try:
                outputs = {
                    table: value if isinstance(value, Output) else Output(value)
                    for table, value in compute(context, **inputs).items()
                    if by_name[table] in selected
                }
                yield from _write_audit_publish(context, outputs, by_name, checks)
            finally:
                _held.set(None)
                for df in held:
                    df.unpersist()

        return _step

    return decorate


def _write_audit_publish(context, outputs: dict, by_name: dict, checks: list) -> Iterator:
    spark = context.resources.spark.spark_session
    storage = context.resources.storage
    window = context.partition_time_window if context.assets_def.partitions_def else None
    cached = [out.value.persist() for out in outputs.values()]
    try:
        pending = {}
        for table_name, out in outputs.items():
            table = by_name[table_name]
            pending[table.full_name] = pending_write(
                spark, table.full_name, storage.table_path(table.layer, table.name),
                table.write, out.value, window, revisited_dates(out.metadata or {}),
            )
        results = list(evaluate_rules(context, checks, pending))
        if not any(blocks for blocks, _ in results):
            for table_name, out in outputs.items():
                yield Output(out.value, output_name=table_name, metadata=out.metadata)
        else:
            context.log.error(
                f"Nothing was committed to {', '.join(by_name[t].full_name for t in outputs)}: "
                "a blocking rule failed; the tables stay at their previous version."
            )
        yield from (checked for _, checked in results)
    finally:
        for df in cached:
            df.unpersist()


def with_layer_metadata(df: DataFrame, layer: str, sources: Sequence[str]) -> DataFrame:
    """The gold lineage columns. processing_timestamp is metadata only, never business logic."""
    return df.select(
        "*",
        F.lit(",".join(sorted(sources))).alias("silver_source_tables"),
        F.current_timestamp().alias("processing_timestamp"),
        F.lit(layer).alias("layer"),
    )


def _inputs_of(transform: Callable) -> list[str]:
    """The tables a transform reads: its parameters without a default, named after tables."""
    params = [
        name for name, p in inspect.signature(transform).parameters.items()
        if p.default is inspect.Parameter.empty
    ]
    unknown = [p for p in params if p not in TABLE_NAMES]
    if unknown:
        raise ValueError(f"{transform.__name__}: parameters {unknown} name no lakehouse table.")
    return params


def tables_step(name: str, layer: str, tables: Sequence[tuple[str, Callable]]):
    """One step computing several tables of ``layer`` from the same inputs, each
    ``(table, transform)``: every input is read once for all of them.

    A transform returns a DataFrame, or ``(DataFrame, metadata)`` to attach metadata (charts,
    model errors) to the materialization.
    """
    reads = {t: _inputs_of(transform) for t, transform in tables}
    ins = {p: AssetIn(key=TABLE_NAMES[p].split(".")) for params in reads.values() for p in params}

    @step(name, [Table(layer, t) for t, _ in tables], ins=ins)
    def _compute(context, **loaded: DataFrame) -> dict:
        outputs = {}
        for table, transform in tables:
            if AssetKey([layer, table]) not in context.selected_asset_keys:
                continue
            result = transform(*(loaded[p] for p in reads[table]))
            df, metadata = result if isinstance(result, tuple) else (result, {})
            if layer == "gold":
                df = with_layer_metadata(df, layer, [TABLE_NAMES[p] for p in reads[table]])
            outputs[table] = Output(df, metadata=metadata)
        return outputs

    return _compute


def table_asset(layer: str, table: str, transform: Callable):
    """The step of one table ``[layer, table]`` computed as ``transform(<its input tables>)``."""
    return tables_step(f"{layer}_{table}", layer, [(table, transform)])
