"""Customer gold marts: fct_customer_metrics, dim_customer_segments, and the
customer reports (segment revenue summary, RFM heatmap).

A silver customer without a completed order has no int_customer_rfm row. The original design leaves all
its metrics null, which its CASEs then turn into nonsense ('Very Low' churn risk, 'Others'
segment); here such a customer gets explicit zeros and 'Never Purchased' / 'Prospects'.
"""

from __future__ import annotations

from pyspark.sql import DataFrame


def fct_customer_metrics(stg_customers: DataFrame, int_customer_rfm: DataFrame) -> DataFrame:
    """One row per silver customer.

    Columns: customer_id, email, first_name, last_name, country, customer_created_at,
    recency_days, frequency, monetary_value, avg_order_value, recency_score, frequency_score,
    monetary_score, rfm_total_score, rfm_segment_code, customer_tenure_days, first_order_date,
    last_order_date, current_clv, predicted_clv_12m, churn_risk.
    """
    return stg_customers.sparkSession.sql(
        """
        SELECT
            c.customer_id,
            c.email,
            c.first_name,
            c.last_name,
            c.country,
            c.customer_created_at,
            r.recency_days,
            COALESCE(r.frequency, 0) AS frequency,
            COALESCE(r.monetary_value, 0) AS monetary_value,
            r.avg_order_value,
            r.recency_score,
            r.frequency_score,
            r.monetary_score,
            r.rfm_total_score,
            r.rfm_segment_code,
            r.customer_tenure_days,
            r.first_order_date,
            r.last_order_date,
            COALESCE(r.monetary_value, 0) AS current_clv,
            CASE
                WHEN r.customer_id IS NULL THEN 0
                WHEN r.rfm_total_score >= 12 THEN r.monetary_value * 2.0
                WHEN r.rfm_total_score >= 9 THEN r.monetary_value * 1.5
                WHEN r.rfm_total_score >= 6 THEN r.monetary_value * 1.2
                ELSE r.monetary_value * 0.8
            END AS predicted_clv_12m,
            CASE
                WHEN r.customer_id IS NULL THEN 'Never Purchased'
                WHEN r.recency_days > 180 AND r.frequency = 1 THEN 'High'
                WHEN r.recency_days > 120 THEN 'Medium'
                WHEN r.recency_days > 90 THEN 'Low'
                ELSE 'Very Low'
            END AS churn_risk
        FROM {stg_customers} c
        LEFT JOIN {int_customer_rfm} r ON c.customer_id = r.customer_id
        """,
        stg_customers=stg_customers,
        int_customer_rfm=int_customer_rfm,
    )


def dim_customer_segments(fct_customer_metrics: DataFrame) -> DataFrame:
    """Segment and recommended action per customer.

    Columns: customer_id, email, first_name, last_name, customer_segment, recency_score,
    frequency_score, monetary_score, rfm_total_score, monetary_value, total_orders,
    avg_order_value, predicted_clv_12m, churn_risk, recommended_action.
    """
    # `frequency = 0` <=> no completed order (no scores): checked first, before the original design's rules.
    return fct_customer_metrics.sparkSession.sql(
        """
        SELECT
            customer_id,
            email,
            first_name,
            last_name,
            CASE
                WHEN frequency = 0 THEN 'Prospects'
                WHEN recency_score >= 4 AND frequency_score >= 4 AND monetary_score >= 4 THEN 'Champions'
                WHEN recency_score >= 3 AND frequency_score >= 3 AND monetary_score >= 3 THEN 'Loyal Customers'
                WHEN recency_score >= 4 AND frequency_score <= 2 AND monetary_score <= 2 THEN 'New Customers'
                WHEN recency_score >= 3 AND frequency_score <= 2 AND monetary_score >= 3 THEN 'Big Spenders'
                WHEN recency_score <= 2 AND frequency_score >= 3 AND monetary_score >= 3 THEN 'At Risk'
                WHEN recency_score <= 2 AND frequency_score <= 2 AND monetary_score >= 3 THEN 'Cant Lose Them'
                WHEN recency_score <= 2 AND frequency_score >= 2 AND monetary_score <= 2 THEN 'Hibernating'
                WHEN recency_score <= 1 AND frequency_score <= 1 AND monetary_score <= 1 THEN 'Lost'
                ELSE 'Others'
            END AS customer_segment,
            recency_score,
            frequency_score,
            monetary_score,
            rfm_total_score,
            monetary_value,
            frequency AS total_orders,
            avg_order_value,
            predicted_clv_12m,
            churn_risk,
            CASE
                WHEN frequency = 0 THEN 'First-purchase welcome campaign'
                WHEN recency_score >= 4 AND frequency_score >= 4 THEN 'VIP treatment, exclusive offers'
                WHEN recency_score >= 4 AND frequency_score <= 2 THEN 'Onboarding campaign, product recommendations'
                WHEN recency_score <= 2 AND monetary_score >= 3 THEN 'Win-back campaign, special discount'
                WHEN recency_score <= 2 AND frequency_score <= 2 THEN 'Re-engagement or sunset'
                ELSE 'Standard nurture campaign'
            END AS recommended_action
        FROM {fct_customer_metrics}
        """,
        fct_customer_metrics=fct_customer_metrics,
    )


def segment_revenue_summary(dim_customer_segments: DataFrame) -> DataFrame:
    """One row per customer segment, by total revenue.

    Columns: customer_segment, customer_count, total_revenue, avg_customer_value,
    avg_predicted_clv, total_predicted_value.
    """
    # Tie-break on the segment name so the order (and so the chart) is deterministic.
    return dim_customer_segments.sparkSession.sql(
        """
        SELECT
            customer_segment,
            COUNT(*) AS customer_count,
            SUM(monetary_value) AS total_revenue,
            AVG(monetary_value) AS avg_customer_value,
            AVG(predicted_clv_12m) AS avg_predicted_clv,
            SUM(predicted_clv_12m) AS total_predicted_value
        FROM {dim_customer_segments}
        GROUP BY customer_segment
        ORDER BY total_revenue DESC, customer_segment
        """,
        dim_customer_segments=dim_customer_segments,
    )


def rfm_heatmap(fct_customer_metrics: DataFrame) -> DataFrame:
    """RFM heatmap data: customers per (recency_score, frequency_score).

    Columns: recency_score, frequency_score, customer_count, avg_value.
    """
    # Customers who never purchased have no scores; the original design would give them a (null, null)
    # cell, which is no cell of a 5x5 heatmap, so they are left out.
    return fct_customer_metrics.sparkSession.sql(
        """
        SELECT
            recency_score,
            frequency_score,
            COUNT(*) AS customer_count,
            AVG(monetary_value) AS avg_value
        FROM {fct_customer_metrics}
        WHERE recency_score IS NOT NULL
        GROUP BY recency_score, frequency_score
        ORDER BY recency_score, frequency_score
        """,
        fct_customer_metrics=fct_customer_metrics,
    )
