"""ML features: ml_customer_features, with the original design's invalid SQL fixed.

Fixes against the original design:
* avg_days_between_orders: the original design nests LAG (a window) inside AVG (an aggregate), which Spark
  rejects; the gaps are computed per order in a subquery and averaged outside.
* CURRENT_DATE -> the analysis date (latest completed order date), so features are reproducible
  and consistent with recency_days; feature_generated_at (wall clock) is dropped.
* DATEDIFF('day', ...) / DATEADD('day', ...) / `:: DOUBLE` are not Spark SQL: datediff,
  date_sub and CAST are used; divisions are guarded (ANSI mode).
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from lakehouse_assets.transforms.intermediate import analysis_date


def ml_customer_features(
    fct_customer_metrics: DataFrame, int_customer_orders: DataFrame
) -> DataFrame:
    """One row per customer of fct_customer_metrics (customers without orders kept).

    Columns: customer_id, is_churn_risk, country, account_age_days, recency_days, frequency,
    monetary_value, avg_order_value, recency_score, frequency_score, monetary_score,
    rfm_total_score, customer_tenure_days, revenue_per_order, orders_per_month,
    order_value_volatility, max_order_value, min_order_value, avg_days_between_orders,
    order_trend_ratio, is_active_last_30d, is_active_last_90d, predicted_clv_12m,
    clv_growth_multiplier.
    """
    return fct_customer_metrics.sparkSession.sql(
        """
        WITH order_gaps AS (
            SELECT
                customer_id,
                order_date,
                order_total,
                DATEDIFF(
                    order_date,
                    LAG(order_date) OVER (PARTITION BY customer_id ORDER BY order_date, order_id)
                ) AS days_since_previous_order
            FROM {int_customer_orders}
        ),

        customer_behavior AS (
            SELECT
                og.customer_id,
                STDDEV(og.order_total) AS order_value_volatility,
                MAX(og.order_total) AS max_order_value,
                MIN(og.order_total) AS min_order_value,
                AVG(og.days_since_previous_order) AS avg_days_between_orders,
                -- orders in the last 90 days / orders in the 90 days before (null if none)
                CASE
                    WHEN COUNT(*) >= 3 THEN
                        try_divide(
                            CAST(SUM(CASE WHEN og.order_date >= DATE_SUB(ad.analysis_date, 90)
                                          THEN 1 ELSE 0 END) AS DOUBLE),
                            NULLIF(SUM(CASE WHEN og.order_date >= DATE_SUB(ad.analysis_date, 180)
                                             AND og.order_date < DATE_SUB(ad.analysis_date, 90)
                                            THEN 1 ELSE 0 END), 0)
                        )
                    ELSE NULL
                END AS order_trend_ratio
            FROM order_gaps og
            CROSS JOIN {analysis_date} ad
            GROUP BY og.customer_id, ad.analysis_date
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
        int_customer_orders=int_customer_orders,
        analysis_date=analysis_date(int_customer_orders),
    )
