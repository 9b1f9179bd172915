"""Product gold mart: fct_product_performance (docs/business-rules.md#product-performance)."""

from __future__ import annotations

from pyspark.sql import DataFrame


def fct_product_performance(int_product_metrics: DataFrame) -> DataFrame:
    """int_product_metrics plus ranks, category revenue share and performance tier.

    Columns: every int_product_metrics column, then revenue_rank, units_rank, profit_rank,
    category_revenue_share, performance_tier.

    * Tiers: revenue against percentile_cont(0.8 / 0.5 / 0.2) of ALL products' revenue
      (unsold products count with revenue 0), as in the original design.
    * Ranks: ROW_NUMBER as in the original design, ties broken by product_id ascending (the original design leaves
      them to chance). They rank the whole product table, so Spark runs each on a single
      partition (and logs a warning): fine for a table with one row per product.
    * category_revenue_share: revenue / the category's revenue; 0 where the category sold
      nothing (the original design divides by zero: an ANSI error in Spark 4).
    """
    return int_product_metrics.sparkSession.sql(
        """
        WITH percentile_stats AS (
            SELECT
                percentile_cont(0.8) WITHIN GROUP (ORDER BY revenue) AS p80,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue) AS p50,
                percentile_cont(0.2) WITHIN GROUP (ORDER BY revenue) AS p20
            FROM {int_product_metrics}
        )

        SELECT
            ipm.*,
            ROW_NUMBER() OVER (ORDER BY ipm.revenue DESC, ipm.product_id) AS revenue_rank,
            ROW_NUMBER() OVER (ORDER BY ipm.units_sold DESC, ipm.product_id) AS units_rank,
            ROW_NUMBER() OVER (ORDER BY ipm.total_profit DESC, ipm.product_id) AS profit_rank,
            COALESCE(
                try_divide(ipm.revenue, SUM(ipm.revenue) OVER (PARTITION BY ipm.category)), 0
            ) AS category_revenue_share,
            CASE
                WHEN ipm.revenue >= ps.p80 THEN 'Star'
                WHEN ipm.revenue >= ps.p50 THEN 'Performer'
                WHEN ipm.revenue >= ps.p20 THEN 'Average'
                ELSE 'Underperformer'
            END AS performance_tier
        FROM {int_product_metrics} ipm
        CROSS JOIN percentile_stats ps
        """,
        int_product_metrics=int_product_metrics,
    )
