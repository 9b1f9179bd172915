"""Every table of the lakehouse: its row key and how a run writes it, declared once.

The asset factory (``assets.factory.Table``) hands each table's write metadata to the Delta
IO manager from here, and the checks (``checks.table_rules``) build each table's key rule from
here: the key is never null and never duplicated, in the scope its write mode implies.

Write modes:

* ``REPLACE``: each run replaces the whole table. The key is unique in the table.
* ``UPSERT``: the run's rows replace the stored rows of the same key; other rows stay.
* ``LANDING_DAYS``: daily-partitioned by ``_landing_date``; the run replaces the rows of its
  landing dates. The key is unique within a landing date (checked on the run's dates).
* ``LATEST_VERSION``: one row per key across landing dates, the latest landing date's version;
  the run's rows replace older versions of their keys and the rows of its landing dates. The
  key is unique in the whole table (checked for the keys the run wrote).
"""

from dataclasses import dataclass

from lakehouse_assets.landing import DATASETS

LANDING_DATE = "_landing_date"
REPLACE, UPSERT, LANDING_DAYS, LATEST_VERSION = "replace", "upsert", "landing_days", "latest_version"
BY_LINE = ("_source_file", "_line_number")


@dataclass(frozen=True)
class TableSpec:
    name: str  # "layer.table"
    keys: tuple[str, ...]
    write: str = REPLACE
    # False: the key rule is not run in the writing step (bronze is audited per landing file
    # against its ledger instead; the quality summary is keyed by construction).
    audit_keys: bool = True

    @property
    def cluster_by(self) -> tuple[str, ...]:
        """Liquid clustering columns of a table that MERGEs add to: the landing date and the
        key (the MERGE's and the readers' predicates), or the key of an upsert table. A table
        replaced whole by every run holds what one write makes and is not clustered."""
        if self.write == REPLACE:
            return ()
        return self.keys if self.write == UPSERT else (LANDING_DATE, *self.keys)

    @property
    def write_metadata(self) -> dict:
        """The Delta IO manager's merge metadata (empty: the table is replaced whole)."""
        if self.write == REPLACE:
            return {}
        merge = {"merge_keys": list(self.keys), "cluster_by": list(self.cluster_by)}
        if self.write == UPSERT:
            return merge
        merge["partition_expr"] = LANDING_DATE
        if self.write == LATEST_VERSION:
            merge["key_scope"] = "table"
        return merge

    @property
    def key_scope(self) -> str:
        """Where the key rule looks: ``table`` (the whole table), ``window`` (the run's landing
        dates) or ``window_keys`` (the keys the run wrote, across the whole table)."""
        return {LANDING_DAYS: "window", LATEST_VERSION: "window_keys"}.get(self.write, "table")


def _declare(*specs: TableSpec) -> dict[str, TableSpec]:
    return {spec.name: spec for spec in specs}


TABLES: dict[str, TableSpec] = _declare(
    *[
        spec
        for d in DATASETS
        for spec in (
            TableSpec(f"bronze.{d}", BY_LINE, LANDING_DAYS, audit_keys=False),
            TableSpec(f"bronze.quarantine_{d}", BY_LINE, LANDING_DAYS, audit_keys=False),
            TableSpec(f"bronze.ledger_{d}", ("file_path",), LANDING_DAYS, audit_keys=False),
        )
    ],
    *[TableSpec(f"silver.stg_{d}", (spec.key,), LATEST_VERSION) for d, spec in DATASETS.items()],
    *[TableSpec(f"silver.quarantine_{d}", BY_LINE, LANDING_DAYS) for d in DATASETS],
    TableSpec("silver.int_customer_orders", ("order_id",)),
    TableSpec("silver.int_customer_rfm", ("customer_id",)),
    TableSpec("silver.int_product_metrics", ("product_id",)),
    TableSpec("gold.fct_customer_metrics", ("customer_id",)),
    TableSpec("gold.dim_customer_segments", ("customer_id",)),
    TableSpec("gold.fct_customer_insights", ("customer_id",)),
    TableSpec("gold.fct_marketing_customers", ("customer_id",)),
    TableSpec("gold.fct_customer_spend_tiers", ("customer_id",)),
    TableSpec("gold.fct_customer_ltv", ("customer_id",)),
    TableSpec("gold.fct_high_risk_orders", ("order_id",)),
    TableSpec("gold.fct_product_performance", ("product_id",)),
    TableSpec("gold.fct_product_reorders", ("product_id",)),
    TableSpec("gold.fct_department_analytics", ("department",)),
    TableSpec("gold.fct_product_pairs", ("product_a", "product_b")),
    # Keyed by order date and merged per landing day (assets.gold.sales).
    TableSpec("gold.fct_daily_sales", ("order_date",), UPSERT),
    TableSpec("gold.fct_user_daily_spend", ("customer_id", "order_date"), UPSERT),
    TableSpec("gold.fct_sales_forecast", ("forecast_date",)),
    TableSpec("gold.fct_finance_daily", ("order_date", "category", "payment_method")),
    # Each run adds its rows; history accumulates.
    TableSpec("gold.data_quality_summary", ("run_id", "table_name", "rule"), UPSERT,
              audit_keys=False),
    TableSpec("ml.ml_customer_features", ("customer_id",)),
)


def table_spec(name: str) -> TableSpec:
    """The declaration of table ``name`` ("layer.table")."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(
            f"Table {name} is not declared in lakehouse_assets/tables.py (its key and write "
            "mode): declare it there."
        ) from None
