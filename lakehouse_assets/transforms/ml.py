"""ML features: ml_customer_features, with the original design's invalid SQL fixed.

Fixes against the original design:
* avg_days_between_orders: the original design nests LAG (a window) inside AVG (an aggregate), which Spark
  rejects; the per-customer summary computes the gaps per order and averages them.
* CURRENT_DATE -> the analysis date (latest completed order date), so features are reproducible
  and consistent with recency_days; feature_generated_at (wall clock) is dropped.
* DATEDIFF('day', ...) / DATEADD('day', ...) / `:: DOUBLE` are not Spark SQL: datediff,
  date_sub and CAST are used; divisions are guarded (ANSI mode).
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from lakehouse_assets.transforms.intermediate import analysis_date


def ml_customer_features(
    fct_customer_metrics: DataFrame, int_customer_summary: DataFrame
) -> DataFrame:
    """One row per customer of fct_customer_metrics (customers without orders kept), from the
    customer metrics and the per-customer summary (never the order history).

    Columns: customer_id, is_churn_risk, country, account_age_days, recency_days, frequency,
    monetary_value, avg_order_value, recency_score, frequency_score, monetary_score,
    rfm_total_score, customer_tenure_days, revenue_per_order, orders_per_month,
    order_value_volatility, max_order_value, min_order_value, avg_days_between_orders,
    order_trend_ratio, is_active_last_30d, is_active_last_90d, predicted_clv_12m,
    clv_growth_multiplier.
    """
    return fct_customer_metrics.sparkSession.sql(
        """
        WITH customer_behavior AS (
            SELECT
                s.customer_id,
                s.order_value_volatility,
                s.max_order_value,
                s.min_order_value,
                s.avg_days_between_orders,
                -- orders in the last 90 days / orders in the 90 days before (null if none)
                CASE
                    WHEN s.order_count >= 3 THEN
                        try_divide(
                            CAST(SIZE(FILTER(s.order_dates,
                                             d -> d >= DATE_SUB(ad.analysis_date, 90)))
                                 AS DOUBLE),
                            NULLIF(SIZE(FILTER(s.order_dates,
                                               d -> d >= DATE_SUB(ad.analysis_date, 180)
                                                    AND d < DATE_SUB(ad.analysis_date, 90))), 0)
                        )
                    ELSE NULL
                END AS order_trend_ratio
            FROM {int_customer_summary} s
            CROSS JOIN {analysis_date} ad
        )

        SELECT
            cm.customer_id,
            CASE WHEN cm.churn_risk IN ('High', 'Medium') THEN 1 ELSE 0 END AS is_churn_risk,
            cm.country,
            DATEDIFF(ad.analysis_date, cm.customer_created_at) AS account_age_days,
            cm.recency_days,
            cm.frequency,
            cm.monetary_value,
            cm.avg_order_value,
            cm.recency_score,
            cm.frequency_score,
            cm.monetary_score,
            cm.rfm_total_score,
            cm.customer_tenure_days,
            CASE WHEN cm.frequency > 0 THEN try_divide(cm.monetary_value, cm.frequency) ELSE 0 END
                AS revenue_per_order,
            CASE WHEN cm.customer_tenure_days > 0
                 THEN try_divide(cm.frequency * 30.0, cm.customer_tenure_days) ELSE 0 END
                AS orders_per_month,
            cb.order_value_volatility,
            cb.max_order_value,
            cb.min_order_value,
            cb.avg_days_between_orders,
            cb.order_trend_ratio,
            CASE WHEN cm.recency_days <= 30 THEN 1 ELSE 0 END AS is_active_last_30d,
            CASE WHEN cm.recency_days <= 90 THEN 1 ELSE 0 END AS is_active_last_90d,
            cm.predicted_clv_12m,
            CASE WHEN cm.monetary_value > 0
                 THEN try_divide(cm.predicted_clv_12m, cm.monetary_value) ELSE 0 END
                AS clv_growth_multiplier
        FROM {fct_customer_metrics} cm
        CROSS JOIN {analysis_date} ad
        LEFT JOIN customer_behavior cb ON cm.customer_id = cb.customer_id
        """,
        fct_customer_metrics=fct_customer_metrics,
        int_customer_summary=int_customer_summary,
        analysis_date=analysis_date(int_customer_summary, "last_order_date"),
    )
