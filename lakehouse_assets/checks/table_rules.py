"""Which quality rule runs on which table, reading what.

Each ``QualityRule`` binds a plain rule function (``integrity``, ``gold``, ``contracts``) to
the table it is about, and says which other tables it reads (they become the check's
``additional_deps``, so in a run the check waits for them). ``checks.definitions`` turns each
into a Dagster asset check; ``checks.summary`` evaluates the same rules for the
``gold.data_quality_summary`` table.

Scope: rules about a daily-partitioned table evaluate only the landing dates the run wrote
(``RuleInputs.window``, from the run's partition range); an upsert's rules count, in the
writing step, the rows it writes (``TableSpec.key_scope``); tables replaced whole, and
reconciliations, which are statements about whole tables, read whole tables.

Where a rule runs: in the step that writes its table, on what the table will hold, before the
commit (``assets.factory``); a reconciliation of tables written by different steps
(``after_publish``) runs in one check step after them (``checks.definitions``).

How: a rule about its own table's rows (the key rule, the contract, value and consistency
rules) is *counted*: ``evaluate_all`` counts all of a table's counted rules in one Spark
aggregation (``checks.counting``); rules that join other tables run their own queries.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.checks import contracts, counting, gold, integrity
from lakehouse_assets.checks.counting import KEY_RULE, CountedRule
from lakehouse_assets.checks.results import RuleResult
from lakehouse_assets.checks.rules import THRESHOLDS, Thresholds
from lakehouse_assets.resources.delta_io_manager import PendingWrite, read_table, window_predicate
from lakehouse_assets.tables import LANDING_DATE, TABLES, TableSpec, table_spec
from lakehouse_assets.transforms.silver import ENTITY_KEYS



@dataclass
class RuleInputs:
    """What a rule reads: tables of the lakehouse, and the run's landing-date window.

    ``pending`` holds the tables the current step is about to write, as they will be after
    the write: rules audit those before anything is committed, and read every other table as
    stored.
    """

    spark: object
    storage: object
    window: tuple[dt.datetime, dt.datetime] | None = None  # [start, end) of the run
    thresholds: Thresholds = THRESHOLDS
    pending: dict[str, PendingWrite] = field(default_factory=dict)

    def table(self, name: str) -> DataFrame:
        if name in self.pending:
            return self.pending[name].table
        layer, table = name.split(".")
        df = read_table(self.spark, self.storage.table_path(layer, table))
        if df is None:
            raise FileNotFoundError(f"Table {name} does not exist yet: materialize it first.")
        return df

    def landed(self, name: str) -> DataFrame:
        """The table's rows of the run's landing dates (a literal, prunable predicate)."""
        if self.window is None:
            return self.table(name)
        if name in self.pending:
            return self.pending[name].landed(*self.window, LANDING_DATE)
        return self.table(name).where(window_predicate(LANDING_DATE, *self.window))

    @property
    def last_landing_date(self) -> dt.date | None:
        return (self.window[1] - dt.timedelta(days=1)).date() if self.window else None


@dataclass(frozen=True)
class QualityRule:
    """A rule is evaluated either by ``evaluate`` (it reads what it needs) or, ``counted``, by
    counting its table's rows that break its conditions: all the counted rules of a table
    (its key rule among them) share one aggregation (``evaluate_all``)."""

    table: str  # "layer.table": the asset the check is attached to
    name: str  # the check's name, unique per table
    evaluate: Callable[[RuleInputs], RuleResult] | None
    description: str
    blocking: bool = True  # integrity rules stop downstream assets on an ERROR failure
    reads: tuple[str, ...] = field(default_factory=tuple)
    # The quality setting (resources.QualitySettings) that tunes the rule's limit, if any.
    setting: str | None = None
    # False: audited in the step that writes the table, before its commit. True: the rule
    # reconciles tables written in other steps, so it runs in a check step once they are.
    after_publish: bool = False
    counted: CountedRule | None = None
    # A counted rule about the run's landed rows only (else: every row the key rule checks,
    # which must then be the whole table).
    landed_only: bool = False

    def __post_init__(self):
        if (self.evaluate is None) == (self.counted is None):
            raise ValueError(f"{self.table} / {self.name}: needs exactly one of evaluate, counted.")
        # The key rule of these scopes checks other rows than the ones a rule about the
        # table's rows is about (the upsert's written rows are those it is about).
        partial = self.counted and table_spec(self.table).key_scope in ("window", "window_keys")
        if partial and not self.landed_only and self.name != KEY_RULE:
            raise ValueError(
                f"{self.table} / {self.name}: the key rule of this table checks part of it; a "
                "counted rule about every row must be landed_only or evaluate on its own."
            )

    @property
    def asset_key(self) -> list[str]:
        return self.table.split(".")


# --- keys: one rule per declared table (lakehouse_assets.tables), in its write mode's scope --
def key_rule(spec: TableSpec) -> QualityRule:
    def counted(_: DataFrame, t: Thresholds):
        return {}, lambda _counts, keys: integrity.key_result(keys, spec.name, t)

    return QualityRule(
        spec.name, KEY_RULE, None,
        f"Key {list(spec.keys)} is never null and never duplicated ({spec.key_scope} scope).",
        counted=counted,
    )


def key_frame(table: str, inp: RuleInputs) -> DataFrame:
    """The rows the key rule of ``table`` checks, in its write mode's scope."""
    spec = table_spec(table)
    if spec.key_scope == "table" or inp.window is None:
        return inp.table(table)
    if spec.key_scope == "written_keys":
        return inp.pending[table].written if table in inp.pending else inp.table(table)
    if spec.key_scope == "window":
        return inp.landed(table)
    return integrity.rows_with_keys_of(inp.table(table), inp.landed(table), list(spec.keys))


def evaluate_all(rules: Sequence[QualityRule], inp: RuleInputs) -> list[RuleResult]:
    """The result of each rule, in order. The counted rules of a table are counted in one
    aggregation over the rows its key rule checks; a landed-only rule counts the run's
    landing dates among them."""
    results: dict[int, RuleResult] = {}
    counted: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        if rule.counted:
            counted.setdefault(rule.table, []).append(i)
        else:
            results[i] = rule.evaluate(inp)
    for table, members in counted.items():
        frame = key_frame(table, inp)
        plans = {i: rules[i].counted(frame, inp.thresholds) for i in members}
        landed = F.expr(window_predicate(LANDING_DATE, *inp.window)) if inp.window else None
        scopes = {str(i): landed for i in members if rules[i].landed_only and landed is not None}
        keys, counts = counting.count(
            frame, list(table_spec(table).keys),
            {str(i): conditions for i, (conditions, _) in plans.items()}, scopes,
        )
        for i, (_, judge) in plans.items():
            results[i] = judge(counts[str(i)], keys)
    return [results[i] for i in range(len(rules))]


# --- silver ----------------------------------------------------------------------------------
def contract_rule(stg: str) -> QualityRule:
    model, [key] = contracts.CONTRACTS[stg], table_spec(f"silver.{stg}").keys
    return QualityRule(
        f"silver.{stg}", "pandera_contract", None,
        f"pandera contract {model.__name__} (types, nullability, ranges, statuses, email) on "
        "the run's landing dates; counts by column and check. An unknown order status warns.",
        counted=contracts.contract(model, key, f"silver.{stg}"), landed_only=True,
    )


def conservation_rule(entity: str) -> QualityRule:
    key = ENTITY_KEYS[entity]

    def evaluate(inp: RuleInputs) -> RuleResult:
        stg = f"silver.stg_{entity}"
        return integrity.conservation(
            inp.landed(f"bronze.{entity}"), inp.landed(stg),
            inp.landed(f"silver.quarantine_{entity}"), inp.table(stg), key, stg, inp.thresholds,
        )

    return QualityRule(
        f"silver.stg_{entity}", "conservation", evaluate,
        "Per landing date: bronze rows = silver rows + quarantined + superseded (each term "
        "counted from its own table).",
        reads=(f"bronze.{entity}", f"silver.quarantine_{entity}"),
    )


def file_conservation_rule(dataset: str) -> QualityRule:
    def evaluate(inp: RuleInputs) -> RuleResult:
        return integrity.file_conservation(
            inp.landed(f"bronze.{dataset}"), inp.landed(f"bronze.quarantine_{dataset}"),
            inp.landed(f"bronze.ledger_{dataset}"), f"bronze.{dataset}", inp.thresholds,
        )

    return QualityRule(
        f"bronze.{dataset}", "file_conservation", evaluate,
        "Per landing file of the run: rows in bronze + quarantined lines = the records the "
        "ledger counted when it parsed the file (each counted from its own written table).",
        reads=(f"bronze.quarantine_{dataset}", f"bronze.ledger_{dataset}"),
    )


def _orphans_order_items(inp: RuleInputs) -> RuleResult:
    return integrity.orphans(
        inp.landed("silver.stg_order_items"), "order_item_id",
        {"order_id": (inp.table("silver.stg_orders"), "order_id"),
         "product_id": (inp.table("silver.stg_products"), "product_id")},
        "silver.stg_order_items", inp.thresholds,
    )


def _orphans_orders(inp: RuleInputs) -> RuleResult:
    return integrity.orphans(
        inp.landed("silver.stg_orders"), "order_id",
        {"customer_id": (inp.table("silver.stg_customers"), "customer_id")},
        "silver.stg_orders", inp.thresholds,
    )


# --- gold ------------------------------------------------------------------------------------
def _spend(table: str, total: str, avg: str, segment: str | None) -> QualityRule:
    return QualityRule(
        table, "spend_values", None,
        f"{total} and {avg} not negative, {total} >= {avg}, {total}"
        + (f" and {segment}" if segment else "") + " not null.",
        counted=gold.spend_values(table, total, avg, segment),
    )


def _touched_order_dates(inp: RuleInputs) -> list[dt.date] | None:
    """Order dates of the orders the run landed (None outside a partitioned run: every date)."""
    if inp.window is None:
        return None
    rows = inp.landed("silver.stg_orders").select("order_date").distinct().collect()
    return sorted(r[0] for r in rows if r[0] is not None)


def _freshness(dataset: str) -> QualityRule:
    def evaluate(inp: RuleInputs) -> RuleResult:
        if inp.last_landing_date is not None:
            reference, why = inp.last_landing_date, "last landing date of the run's partitions"
        else:
            reference = (
                inp.table("bronze.orders").agg(F.max(F.to_date("order_date"))).first()[0]
            )
            why = "latest order date in bronze.orders"
        return integrity.freshness(
            inp.table(f"bronze.ledger_{dataset}"), dataset, reference, why, inp.thresholds
        )

    return QualityRule(
        f"bronze.ledger_{dataset}", "freshness", evaluate,
        f"The latest landing date of {dataset} is within the allowed lag of the run's last "
        "partition (business time, never the wall clock). Warns.",
        # bronze.orders is read only by a check run outside a partitioned run: no dependency.
        blocking=False,
    )


GOLD_RULES: tuple[QualityRule, ...] = (
    _spend("gold.fct_customer_insights", "total_spend", "avg_order_value", "customer_segment"),
    _spend("gold.fct_customer_metrics", "monetary_value", "avg_order_value", None),
    QualityRule(
        "gold.fct_customer_metrics", "customer_metric_rules", None,
        "customer_id not null and unique, predicted_clv_12m >= 0, R/F/M "
        "scores within 1..5 where present.",
        counted=gold.metric_rules("gold.fct_customer_metrics"),
    ),
    QualityRule(
        "gold.fct_daily_sales", "aggregation_reconciliation",
        lambda inp: gold.aggregation_reconciliation(
            inp.table("silver.int_customer_orders"), inp.table("gold.fct_daily_sales"),
            inp.table("gold.fct_customer_metrics"), inp.table("gold.fct_customer_insights"),
            inp.thresholds,
        ),
        "Sum of daily total_sales = sum of completed order totals (silver) = sum of "
        "customer monetary values (metrics and insights).",
        reads=("silver.int_customer_orders", "gold.fct_customer_metrics",
               "gold.fct_customer_insights"),
        after_publish=True,
    ),
    QualityRule(
        "gold.fct_daily_sales", "metric_consistency", None,
        "avg_order_value = total_sales / order_count and items_per_order = "
        "units_sold / order_count (null averages on zero-order dates are consistent).",
        counted=gold.consistency(
            "gold.fct_daily_sales", "order_date",
            lambda t: {
                "avg_order_value": ("total_sales", "order_count", float(t.money_tolerance)),
                "items_per_order": ("units_sold", "order_count", t.ratio_tolerance),
            },
        ),
    ),
    QualityRule(
        "gold.fct_customer_insights", "metric_consistency", None,
        "avg_order_value = total_spend / order_count per customer.",
        counted=gold.consistency(
            "gold.fct_customer_insights", "customer_id",
            lambda t: {"avg_order_value": ("total_spend", "order_count",
                                           float(t.money_tolerance))},
        ),
    ),
    QualityRule(
        "gold.fct_daily_sales", "historical_trend",
        lambda inp: gold.daily_trend(
            inp.table("gold.fct_daily_sales"), _touched_order_dates(inp), inp.thresholds
        ),
        "Warning: a touched day's revenue or order count outside median +- k*MAD "
        "of the trailing 4 weeks.",
        blocking=False, reads=("silver.stg_orders",),
    ),
    QualityRule(
        "gold.dim_customer_segments", "segments_match_metrics",
        lambda inp: gold.segments_match_metrics(
            inp.table("gold.dim_customer_segments"), inp.table("gold.fct_customer_metrics"),
            inp.thresholds,
        ),
        "Cross-metric: the customers in segments are exactly those in the metrics.",
        reads=("gold.fct_customer_metrics",),
    ),
    QualityRule(
        "gold.fct_product_performance", "product_revenue_reconciliation",
        lambda inp: gold.product_revenue_reconciliation(
            inp.table("gold.fct_product_performance"), inp.table("silver.stg_orders"),
            inp.table("silver.stg_order_items"), inp.table("gold.fct_daily_sales"),
            inp.thresholds,
        ),
        "Cross-metric: product revenue = completed line totals = daily sales minus "
        "shipping (daily sales include shipping, product revenue does not).",
        reads=("silver.stg_orders", "silver.stg_order_items", "gold.fct_daily_sales"),
        after_publish=True,
    ),
)

SILVER_RULES: tuple[QualityRule, ...] = (
    *[contract_rule(stg) for stg in contracts.CONTRACTS],
    *[conservation_rule(entity) for entity in ENTITY_KEYS],
    QualityRule(
        "silver.stg_order_items", "referential_integrity", _orphans_order_items,
        "Order items of the run whose order or product is unknown (items of rejected orders "
        "are quarantined, not counted here); ERROR above the max_orphan_share setting.",
        reads=("silver.stg_orders", "silver.stg_products"),
        setting="max_orphan_share",
    ),
    QualityRule(
        "silver.stg_orders", "referential_integrity", _orphans_orders,
        "Orders of the run whose customer is unknown; ERROR above the max_orphan_share "
        "setting.",
        reads=("silver.stg_customers",),
        setting="max_orphan_share",
    ),
)

BRONZE_RULES: tuple[QualityRule, ...] = tuple(
    file_conservation_rule(entity) for entity in ENTITY_KEYS
)

ALL_RULES: tuple[QualityRule, ...] = (
    *BRONZE_RULES,
    *[key_rule(spec) for spec in TABLES.values() if spec.audit_keys],
    *SILVER_RULES,
    *GOLD_RULES,
    *[_freshness(dataset) for dataset in THRESHOLDS.freshness_lag_days],
)


def rules_of(table: str) -> tuple[QualityRule, ...]:
    """The rules audited in the step that writes ``table`` ("layer.table")."""
    return tuple(r for r in ALL_RULES if r.table == table and not r.after_publish)


RECONCILIATION_RULES: tuple[QualityRule, ...] = tuple(r for r in ALL_RULES if r.after_publish)
