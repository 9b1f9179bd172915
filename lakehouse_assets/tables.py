"""Every table of the lakehouse, declared once: its row key, how a run writes it, and what it
holds.

From each declaration the asset factory (``assets.factory.Table``) takes the asset's
description, its column descriptions (``columns``) and the write metadata it hands to the
Delta IO manager (merge keys, clustering), and the checks (``checks.table_rules``) build the
table's key rule: the key is never null and never duplicated, in the scope its write mode
implies.

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

from lakehouse_assets.columns import column_descriptions
from lakehouse_assets.landing import DATASETS

LANDING_DATE = "_landing_date"
REPLACE, UPSERT, LANDING_DAYS, LATEST_VERSION = "replace", "upsert", "landing_days", "latest_version"
BY_LINE = ("_source_file", "_line_number")


@dataclass(frozen=True)
class TableSpec:
    name: str  # "layer.table"
    keys: tuple[str, ...]
    write: str = REPLACE
    # What the table holds: its asset's description in the Dagster UI.
    description: str = ""
    # False: the key rule is not run in the writing step (bronze is audited per landing file
    # against its ledger instead; the quality summary is keyed by construction).
    audit_keys: bool = True
    # UPSERT only: a SQL condition on a written row ``s`` that removes its key from the table
    # instead of writing the row.
    remove_when: str | None = None

    def __post_init__(self):
        if self.remove_when and self.write != UPSERT:
            raise ValueError(f"{self.name}: remove_when applies to UPSERT tables only.")

    @property
    def columns(self) -> dict[str, str]:
        """Every column of the table with its description (``lakehouse_assets.columns``)."""
        return column_descriptions(*self.name.split(".", 1))

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
            return {**merge, "remove_when": self.remove_when} if self.remove_when else merge
        merge["partition_expr"] = LANDING_DATE
        if self.write == LATEST_VERSION:
            merge["key_scope"] = "table"
        return merge

    @property
    def asset_metadata(self) -> dict:
        """The asset's definition metadata: the write metadata, and the column descriptions
        that travel with it to the IO manager (the UI's column schema)."""
        return {**self.write_metadata, "column_descriptions": self.columns}

    @property
    def key_scope(self) -> str:
        """Which rows the key rule (and the table's other counted rules) audit in a partitioned
        run: ``table`` (every row: the table is replaced whole), ``window`` (the run's landing
        dates), ``window_keys`` (the rows with the keys of the run's landing dates, wherever
        they live) or ``written_keys`` (in the writing step, the rows the upsert writes; a
        check run alone audits every row). Rows a write leaves as they were were audited by the
        write that put them there; a write can only break the key through the keys it writes."""
        return {
            UPSERT: "written_keys", LANDING_DAYS: "window", LATEST_VERSION: "window_keys"
        }.get(self.write, "table")


def _declare(*specs: TableSpec) -> dict[str, TableSpec]:
    return {spec.name: spec for spec in specs}


TABLES: dict[str, TableSpec] = _declare(
    *[
        spec
        for d in DATASETS
        for spec in (
            TableSpec(
                f"bronze.{d}", BY_LINE, LANDING_DAYS, audit_keys=False,
                description=f"Every row of the landed `{d}` CSV files, typed per the landing "
                "contract; unparseable values in `_rescued_data`.",
            ),
            TableSpec(
                f"bronze.quarantine_{d}", BY_LINE, LANDING_DAYS, audit_keys=False,
                description=f"`{d}` records that could not be parsed as CSV, with the raw text "
                "and the reason.",
            ),
            TableSpec(
                f"bronze.ledger_{d}", ("file_path",), LANDING_DAYS, audit_keys=False,
                description=f"Ingestion ledger of `{d}`: one row per landing file with its "
                "size, content hash, counts and status (loaded, unchanged, failed).",
            ),
        )
    ],
    *[
        TableSpec(
            f"silver.stg_{d}", (spec.key,), LATEST_VERSION,
            description=f"Current version of each {d} record (cleaned, see "
            "docs/business-rules.md#silver; latest landing date wins, then the last row in "
            "file order).",
        )
        for d, spec in DATASETS.items()
    ],
    *[
        TableSpec(
            f"silver.quarantine_{d}", BY_LINE, LANDING_DAYS,
            description=f"Bronze {d} rows that silver rejected, with every reason.",
        )
        for d in DATASETS
    ],
    # Merged per landing day for the orders, order dates and customers the day touched
    # (assets.by_landing_day). A completed order always has a customer: the step sends an
    # order that is no longer completed without one, which removes its row.
    TableSpec(
        "silver.int_customer_orders", ("order_id",), UPSERT,
        remove_when="s.customer_id IS NULL",
        description="One row per completed order with its subtotal, total and item count. "
        "Merged per landing day for the orders the day touched; an order no longer completed "
        "leaves the table.",
    ),
    TableSpec(
        "silver.int_customer_summary", ("customer_id",), UPSERT,
        remove_when="s.order_count = 0",
        description="Per customer with a completed order: completed orders, spend, average "
        "order value, first and last order date, active months. Merged per landing day for "
        "the customers the day's orders and items touched; a customer whose completed orders "
        "are all gone leaves the table.",
    ),
    TableSpec(
        "silver.int_customer_rfm", ("customer_id",),
        description="Recency, frequency, monetary value and their 1-5 scores per customer with "
        "a completed order, as of the analysis date.",
    ),
    TableSpec(
        "silver.int_product_metrics", ("product_id",),
        description="Sales of every product over completed orders, zeros where unsold.",
    ),
    TableSpec(
        "gold.fct_customer_metrics", ("customer_id",),
        description="One row per customer: RFM, current and predicted 12-month CLV, churn "
        "risk; 'Never Purchased' for customers without a completed order.",
    ),
    TableSpec(
        "gold.dim_customer_segments", ("customer_id",),
        description="RFM segment and recommended action per customer; the segment revenue "
        "chart and RFM heatmap are attached to each materialization.",
    ),
    TableSpec(
        "gold.fct_customer_insights", ("customer_id",),
        description="Spend, orders, average order value, days since last order and segment "
        "per customer.",
    ),
    TableSpec(
        "gold.fct_marketing_customers", ("customer_id",),
        description="Marketing mart: value, frequency, preferred categories and segment per "
        "customer.",
    ),
    TableSpec(
        "gold.fct_customer_spend_tiers", ("customer_id",),
        description="Spend tier per customer: Premium > 10000, Gold > 5000, Silver > 1000, "
        "else Bronze.",
    ),
    TableSpec(
        "gold.fct_customer_ltv", ("customer_id",),
        description="Customer lifetime value: revenue, active months, monthly revenue and "
        "predicted LTV as of the analysis date.",
    ),
    TableSpec(
        "gold.fct_high_risk_orders", ("order_id",),
        description="Orders flagged by rule; every flag explained in risk_reasons.",
    ),
    TableSpec(
        "gold.fct_product_performance", ("product_id",),
        description="Product revenue, profit, ranks, category share and performance tier "
        "(percentile_cont over all products' revenue).",
    ),
    TableSpec(
        "gold.fct_product_reorders", ("product_id",),
        description="Product performance with reorder rate and average days between a "
        "customer's orders of the product.",
    ),
    TableSpec(
        "gold.fct_department_analytics", ("department",),
        description="Sales, products, customers and orders by department, or category where a "
        "product has no department.",
    ),
    TableSpec(
        "gold.fct_product_pairs", ("product_a", "product_b"),
        description="Products bought together in at least 5 completed orders, with support, "
        "confidence and lift.",
    ),
    # Keyed by order date and merged per landing day (assets.by_landing_day).
    TableSpec(
        "gold.fct_daily_sales", ("order_date",), UPSERT,
        description="Completed orders per order date: order count, sales, average order value, "
        "units, items per order, unique customers. Merged per landing day; a date whose orders "
        "were all cancelled since keeps a row of zeros.",
    ),
    TableSpec(
        "gold.fct_user_daily_spend", ("customer_id", "order_date"), UPSERT,
        description="Completed spend and orders per customer per order date (a user spend "
        "summary, adapted to orders). Merged per landing day.",
    ),
    TableSpec(
        "gold.fct_finance_daily", ("order_date", "category", "payment_method"), UPSERT,
        remove_when="s.transaction_count IS NULL",
        description="Finance mart by order date, category and payment method: revenue, tax, "
        "discounts, profit, refunds, credit-card revenue. Merged per landing day: each order "
        "date the day touched (through an order, or a product's changed category or cost) "
        "is recomputed from all its orders.",
    ),
    TableSpec(
        "gold.fct_sales_forecast", ("forecast_date",),
        description="Next 30 days of sales from a least-squares model on trend and day of "
        "week; the model's error on a held-out window is in the metadata.",
    ),
    # Each run adds its rows; history accumulates.
    TableSpec(
        "gold.data_quality_summary", ("run_id", "table_name", "rule"), UPSERT, audit_keys=False,
        description="One row per run, table and quality rule: rows checked, failed and "
        "quarantined, passed, severity, threshold, sample keys, checked_at.",
    ),
    TableSpec(
        "ml.ml_customer_features", ("customer_id",),
        description="Model-ready features per customer: churn label, RFM, order value "
        "volatility, days between orders, order trend, CLV; as of the analysis date.",
    ),
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
