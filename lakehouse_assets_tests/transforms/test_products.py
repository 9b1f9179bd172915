"""Product gold: fct_product_performance tiers, ranks and category revenue share."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from lakehouse_assets.transforms.products import fct_product_performance

# The int_product_metrics columns fct_product_performance reads (it passes all through).
INT_PRODUCT_METRICS_DDL = (
    "product_id string, category string, units_sold bigint, revenue decimal(20,2),"
    " total_profit decimal(31,2)"
)


def test_fct_product_performance_tiers_ranks_and_shares(spark):
    # Revenues sorted: 0, 10, 100, 250, 300, 300, 500 (7 products, unsold G included).
    # percentile_cont interpolates at p * (n - 1):
    #   p80 at 4.8 -> 300 + 0.8 * (300 - 300) = 300
    #   p50 at 3.0 -> 250
    #   p20 at 1.2 -> 10 + 0.2 * (100 - 10) = 28  (so F at 10 is below it: Underperformer)
    metrics = spark.createDataFrame(
        [
            ("A", "Electronics", 5, D("500.00"), D("100.00")),
            ("C", "Books", 10, D("300.00"), D("120.00")),  # ties B on all three measures
            ("B", "Electronics", 10, D("300.00"), D("120.00")),
            ("D", "Books", 2, D("250.00"), D("150.00")),
            ("E", "Toys", 1, D("100.00"), D("-5.00")),
            ("F", "Toys", 1, D("10.00"), D("1.00")),
            ("G", "Garden", 0, D("0.00"), D("0.00")),  # the Garden category sold nothing
        ],
        INT_PRODUCT_METRICS_DDL,
    )

    performance = fct_product_performance(metrics)

    assert performance.columns == [
        "product_id", "category", "units_sold", "revenue", "total_profit", "revenue_rank",
        "units_rank", "profit_rank", "category_revenue_share", "performance_tier",
    ]
    by_id = {
        r["product_id"]: (r["performance_tier"], r["revenue_rank"], r["units_rank"],
                          r["profit_rank"], float(r["category_revenue_share"]))
        for r in performance.collect()
    }
    assert by_id == {
        "A": ("Star", 1, 3, 4, pytest.approx(500 / 800)),
        "B": ("Star", 2, 1, 2, pytest.approx(300 / 800)),
        "C": ("Star", 3, 2, 3, pytest.approx(300 / 550)),
        "D": ("Performer", 4, 4, 1, pytest.approx(250 / 550)),
        "E": ("Average", 5, 5, 7, pytest.approx(100 / 110)),
        "F": ("Underperformer", 6, 6, 5, pytest.approx(10 / 110)),
        "G": ("Underperformer", 7, 7, 6, 0.0),
    }

    # percentile(revenue, p) interpolates exactly as percentile_cont(p) WITHIN GROUP.
    percentiles = spark.sql(
        """
        SELECT
            percentile_cont(0.8) WITHIN GROUP (ORDER BY revenue) AS cont_80,
            percentile(revenue, 0.8) AS pct_80,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue) AS cont_50,
            percentile(revenue, 0.5) AS pct_50,
            percentile_cont(0.2) WITHIN GROUP (ORDER BY revenue) AS cont_20,
            percentile(revenue, 0.2) AS pct_20
        FROM {metrics}
        """,
        metrics=metrics,
    ).first()
    assert tuple(percentiles) == pytest.approx((300, 300, 250, 250, 28, 28))
