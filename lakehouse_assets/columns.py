"""Table and column descriptions of the lakehouse, shown in the Dagster UI.

``COLUMN_DESCRIPTIONS["<layer>.<table>"]`` maps every column of a table to a one-line
description. Assets pass their table's dict as definition metadata (``column_descriptions``)
and the Delta IO manager copies it into the ``dagster/column_schema`` of each
materialization. A test checks that every column of every materialized table is described,
so a new column without a description fails the build instead of showing blank in the UI.

Shared column groups are defined once and reused, so that a column means the same thing in
every table that carries it.
"""

from lakehouse_assets.landing import DATASETS

# --- bronze --------------------------------------------------------------------------------
BRONZE_METADATA = {
    "_rescued_data": "JSON object column -> raw text of values that did not parse as their "
    "column's type and of columns unknown to the landing contract; null when none.",
    "_landing_date": "Landing date: the date folder the file landed in (daily partition).",
    "_source_file": "Landing file, relative to the landing root "
    "(<dataset>/<YYYY-MM-DD>/<name>.csv).",
    "_line_number": "1-based physical line of the record's first line in the file "
    "(the header is line 1).",
    "_file_hash": "SHA-256 (hex) of the landing file's content.",
    "_ingested_at": "When bronze ingested the file (UTC; audit only, not business logic).",
    "_run_id": "Dagster run that ingested the file (audit only).",
}

# Business columns as they land (bronze keeps them verbatim, typed per the landing contract).
LANDING_COLUMNS = {
    "customers": {
        "customer_id": "Customer identifier (opaque string).",
        "email": "Email address as landed.",
        "first_name": "First name as landed.",
        "last_name": "Last name as landed.",
        "country": "Country code as landed.",
        "created_at": "Account creation timestamp (a plain date parses as midnight UTC).",
        "phone": "Phone number (optional).",
        "city": "City (optional).",
        "age": "Age in years (optional).",
    },
    "products": {
        "product_id": "Product identifier (opaque string, e.g. 1001 or 85123A).",
        "product_name": "Product name as landed.",
        "category": "Product category as landed.",
        "cost_price": "Unit cost price.",
        "list_price": "Unit list (selling) price.",
        "department": "Department (optional; gold falls back to the category).",
        "supplier_id": "Supplier identifier (optional).",
        "stock_level": "Units in stock (optional).",
        "reorder_point": "Stock level at which to reorder (optional).",
    },
    "orders": {
        "order_id": "Order identifier (opaque string).",
        "customer_id": "Customer who placed the order.",
        "order_date": "When the order was placed (a plain date parses as midnight UTC).",
        "status": "Order status as landed (pending, processing, completed, cancelled, "
        "returned, ...).",
        "shipping_cost": "Shipping charged on the order.",
        "payment_method": "Payment method (optional), e.g. credit_card, paypal.",
        "payment_status": "Payment status (optional), e.g. paid, pending, refunded.",
        "currency": "Currency code (optional).",
        "tax_amount": "Tax on the order (optional).",
        "discount_amount": "Discount on the order (optional).",
    },
    "order_items": {
        "order_item_id": "Order line identifier (opaque string).",
        "order_id": "Order the line belongs to.",
        "product_id": "Product ordered.",
        "quantity": "Units ordered.",
        "unit_price": "Price per unit on this line.",
    },
}

BRONZE_QUARANTINE = {
    "_landing_date": BRONZE_METADATA["_landing_date"],
    "_source_file": BRONZE_METADATA["_source_file"],
    "_line_number": BRONZE_METADATA["_line_number"],
    "raw_line": "The record's raw text, verbatim.",
    "reason": "Why the record could not be parsed (e.g. wrong field count, unbalanced quote).",
    "_file_hash": BRONZE_METADATA["_file_hash"],
    "_ingested_at": BRONZE_METADATA["_ingested_at"],
    "_run_id": BRONZE_METADATA["_run_id"],
}

BRONZE_LEDGER = {
    "_landing_date": BRONZE_METADATA["_landing_date"],
    "file_path": "Landing file, relative to the landing root (one ledger row per file).",
    "size_bytes": "File size in bytes when it was scanned.",
    "content_hash": "SHA-256 (hex) of the file's content; an unchanged hash is not re-parsed.",
    "records": "CSV records in the file (rows_loaded + lines_quarantined).",
    "rows_loaded": "Records that became bronze rows.",
    "lines_quarantined": "Records that went to the bronze quarantine table.",
    "blank_lines": "Blank lines skipped (not records).",
    "status": "loaded, unchanged (same hash as before: rows carried over) or failed.",
    "error": "Why the file failed (e.g. not UTF-8); null otherwise.",
    "_run_id": "Dagster run that last recorded the file.",
    "_ingested_at": "When the run recorded the file (UTC; audit only).",
}

# --- silver --------------------------------------------------------------------------------
SILVER_LANDING_DATE = {
    "_landing_date": "Landing date of the current version of the row (daily partition)."
}

STG_CUSTOMERS = {
    "customer_id": "Customer identifier.",
    "email": "Email, trimmed and lower-cased.",
    "first_name": "First name, trimmed and init-capped.",
    "last_name": "Last name, trimmed and init-capped.",
    "country": "Country code, trimmed and upper-cased.",
    "customer_created_at": "Account creation date.",
    "phone": "Phone number (optional).",
    "city": "City (optional).",
    "age": "Age in years (optional).",
    "is_valid_email": "Email contains '@' (always true in silver: others are quarantined).",
    **SILVER_LANDING_DATE,
}

PRODUCT_COLUMNS = {
    "product_id": "Product identifier.",
    "product_name": "Product name, trimmed.",
    "category": "Category, trimmed and init-capped.",
    "cost_price": "Current unit cost price (decimal(10,2)).",
    "list_price": "Current unit list price (decimal(10,2)).",
    "profit_margin": "list_price - cost_price.",
    "profit_margin_pct": "(list_price - cost_price) / list_price * 100; null if list_price is 0.",
}

STG_PRODUCTS = {
    "product_id": PRODUCT_COLUMNS["product_id"],
    "product_name": PRODUCT_COLUMNS["product_name"],
    "category": PRODUCT_COLUMNS["category"],
    "department": "Department (optional).",
    "supplier_id": "Supplier identifier (optional).",
    "stock_level": "Units in stock (optional).",
    "reorder_point": "Stock level at which to reorder (optional).",
    "cost_price": PRODUCT_COLUMNS["cost_price"],
    "list_price": PRODUCT_COLUMNS["list_price"],
    "profit_margin": PRODUCT_COLUMNS["profit_margin"],
    "profit_margin_pct": PRODUCT_COLUMNS["profit_margin_pct"],
    **SILVER_LANDING_DATE,
}

STG_ORDERS = {
    "order_id": "Order identifier.",
    "customer_id": "Customer who placed the order.",
    "order_date": "Date the order was placed.",
    "order_status": "Status, trimmed and lower-cased (latest version of the order).",
    "shipping_cost": "Shipping charged (decimal(10,2)).",
    "order_year": "Year of order_date.",
    "order_month": "Month (1-12) of order_date.",
    "order_quarter": "Quarter (1-4) of order_date.",
    "order_day_of_week": "Weekday name of order_date (Monday .. Sunday).",
    "is_completed": "order_status is 'completed' (the only status that counts as a sale).",
    "payment_method": "Payment method (optional).",
    "payment_status": "Payment status (optional).",
    "currency": "Currency code (optional).",
    "tax_amount": "Tax on the order (decimal(10,2), optional).",
    "discount_amount": "Discount on the order (decimal(10,2), optional).",
    **SILVER_LANDING_DATE,
}

STG_ORDER_ITEMS = {
    "order_item_id": "Order line identifier.",
    "order_id": "Order the line belongs to (may be unknown to stg_orders yet).",
    "product_id": "Product ordered (may be unknown to stg_products yet).",
    "quantity": "Units ordered (> 0).",
    "unit_price": "Price per unit (decimal(10,2)).",
    "line_total": "quantity * unit_price.",
    **SILVER_LANDING_DATE,
}


def _silver_quarantine(key: str) -> dict[str, str]:
    return {
        key: "Key of the rejected row (null when the key itself was missing).",
        "_landing_date": "Landing date of the rejected bronze row.",
        "_source_file": "Landing file of the rejected bronze row.",
        "_line_number": "Line of the rejected row in its landing file.",
        "reasons": "Every validation rule the row broke (e.g. missing:email, invalid_email, "
        "negative:unit_price, duplicate_key_in_landing_date).",
        "record": "JSON of the bronze row's business columns, nulls included.",
    }


RFM_SCORES = {
    "recency_score": "1-5 from recency_days (<=30: 5, <=60: 4, <=90: 3, <=180: 2, else 1); "
    "null without a completed order.",
    "frequency_score": "1-5 from frequency (>=5: 5, 4, 3, 2, else 1); null without a "
    "completed order.",
    "monetary_score": "1-5 from monetary_value (>=500: 5, >=300: 4, >=200: 3, >=100: 2, "
    "else 1); null without a completed order.",
    "rfm_total_score": "recency_score + frequency_score + monetary_score (3-15).",
    "rfm_segment_code": "The three scores concatenated, e.g. '535'.",
}

RFM_CALC = {
    "customer_id": "Customer identifier.",
    "recency_days": "Days from the customer's last completed order to the analysis date "
    "(latest completed order date in the data).",
    "frequency": "Completed orders.",
    "monetary_value": "Sum of order_total over completed orders (shipping included).",
    "avg_order_value": "monetary_value / frequency.",
    "first_order_date": "Date of the first completed order.",
    "last_order_date": "Date of the last completed order.",
    "customer_tenure_days": "Days from the first to the last completed order.",
}

INT_CUSTOMER_ORDERS = {
    "order_id": "Completed order identifier (one row per completed order).",
    "customer_id": "Customer who placed the order.",
    "order_date": "Date the order was placed.",
    "shipping_cost": "Shipping charged.",
    "order_subtotal": "Sum of the order's line_total (0 without valid items).",
    "order_total": "order_subtotal + shipping_cost.",
    "items_count": "Order lines of the order.",
}

INT_CUSTOMER_SUMMARY = {
    "customer_id": "Customer with at least one completed order (one row each).",
    "order_count": "Completed orders.",
    "total_spend": "Sum of order_total over completed orders (shipping included).",
    "avg_order_value": "Average order_total of the completed orders.",
    "first_order_date": "Date of the first completed order.",
    "last_order_date": "Date of the last completed order.",
    "active_months": "Distinct calendar months with a completed order.",
    "order_value_volatility": "Standard deviation of order_total (null with one order).",
    "max_order_value": "Largest order_total.",
    "min_order_value": "Smallest order_total.",
    "avg_days_between_orders": "Average days between consecutive completed orders (null with "
    "one order).",
    "order_dates": "Every completed order's date, ascending (for windows relative to the "
    "analysis date).",
}

SALES_METRICS = {
    "orders_count": "Distinct completed orders containing the product.",
    "customers_count": "Distinct customers who bought the product in completed orders.",
    "units_sold": "Units sold in completed orders (0 if unsold).",
    "revenue": "Sum of line_total over completed orders (0 if unsold).",
    "avg_selling_price": "Average unit_price over the product's completed order lines.",
    "total_profit": "revenue - units_sold * current cost_price.",
    "first_sale_date": "Date of the first completed order with the product.",
    "last_sale_date": "Date of the last completed order with the product.",
}

# --- gold ----------------------------------------------------------------------------------
GOLD_LINEAGE = {
    "silver_source_tables": "Comma-separated tables the row was computed from.",
    "processing_timestamp": "When the row was computed (metadata only, never business logic).",
    "layer": "Lakehouse layer of the table: 'gold'.",
}

CUSTOMER_NAME = {
    "customer_id": "Customer identifier.",
    "email": "Email (lower-cased).",
    "first_name": "First name.",
    "last_name": "Last name.",
}

PREDICTED_CLV = {
    "predicted_clv_12m": "Predicted 12-month value: monetary_value x 2.0 (rfm_total_score "
    ">= 12), 1.5 (>= 9), 1.2 (>= 6), else 0.8; 0 without a completed order.",
}
CHURN_RISK = {
    "churn_risk": "High (recency > 180 days, one order), Medium (> 120), Low (> 90), "
    "Very Low, or Never Purchased (no completed order).",
}

FCT_CUSTOMER_METRICS = {
    **CUSTOMER_NAME,
    "country": "Country code.",
    "customer_created_at": "Account creation date.",
    "recency_days": RFM_CALC["recency_days"] + " Null without a completed order.",
    "frequency": "Completed orders (0 without any).",
    "monetary_value": "Sum of completed order totals (0 without any).",
    "avg_order_value": "monetary_value / frequency; null without a completed order.",
    **RFM_SCORES,
    "customer_tenure_days": RFM_CALC["customer_tenure_days"],
    "first_order_date": RFM_CALC["first_order_date"],
    "last_order_date": RFM_CALC["last_order_date"],
    "current_clv": "Value to date: monetary_value (0 without a completed order).",
    **PREDICTED_CLV,
    **CHURN_RISK,
    **GOLD_LINEAGE,
}

DIM_CUSTOMER_SEGMENTS = {
    **CUSTOMER_NAME,
    "customer_segment": "RFM segment by the first matching rule (Champions, Loyal "
    "Customers, New Customers, Big Spenders, At Risk, Cant Lose Them, Hibernating, Lost, "
    "Others); Prospects without a completed order.",
    **{k: v for k, v in RFM_SCORES.items() if k != "rfm_segment_code"},
    "monetary_value": FCT_CUSTOMER_METRICS["monetary_value"],
    "total_orders": "Completed orders (frequency).",
    "avg_order_value": FCT_CUSTOMER_METRICS["avg_order_value"],
    **PREDICTED_CLV,
    **CHURN_RISK,
    "recommended_action": "Marketing action for the segment; 'First-purchase "
    "welcome campaign' for prospects.",
    **GOLD_LINEAGE,
}

FCT_PRODUCT_PERFORMANCE = {
    **PRODUCT_COLUMNS,
    **SALES_METRICS,
    "revenue_rank": "1 = highest revenue; ties by product_id ascending.",
    "units_rank": "1 = most units sold; ties by product_id ascending.",
    "profit_rank": "1 = highest total_profit; ties by product_id ascending.",
    "category_revenue_share": "revenue / the category's revenue (0 when the category sold "
    "nothing).",
    "performance_tier": "Star (revenue >= 80th percentile_cont of all products), Performer "
    "(>= 50th), Average (>= 20th), else Underperformer.",
    **GOLD_LINEAGE,
}

FCT_DAILY_SALES = {
    "order_date": "Order date (the row's key).",
    "order_count": "Completed orders placed that day (0 when they were all cancelled since).",
    "total_sales": "Sum of order_total (items + shipping) of the day's completed orders.",
    "avg_order_value": "total_sales / order_count; null on a day without completed orders.",
    "units_sold": "Units in the day's completed orders.",
    "items_per_order": "units_sold / order_count; null on a day without completed orders.",
    "unique_customers": "Distinct customers with a completed order that day.",
    "day_of_week": "Spark dayofweek of order_date: 1 = Sunday .. 7 = Saturday.",
    "month": "Month (1-12) of order_date.",
    "year": "Year of order_date.",
    **GOLD_LINEAGE,
}

FCT_USER_DAILY_SPEND = {
    "customer_id": "Customer identifier.",
    "order_date": "Order date.",
    "total_spend": "Sum of order_total of the customer's completed orders that day (0 when "
    "they were cancelled since).",
    "order_count": "The customer's completed orders that day.",
    **GOLD_LINEAGE,
}

FCT_SALES_FORECAST = {
    "forecast_date": "Day forecast (the 30 days after the last day with sales).",
    "predicted_sales": "Predicted total_sales (least squares on trend, day of week, month).",
    "lower_bound": "predicted_sales - 1.96 x residual std, clipped at 0.",
    "upper_bound": "predicted_sales + 1.96 x residual std.",
    "model_version": "Identifier of the fitted model (features and training window).",
    "silver_source_tables": "Table the forecast was computed from (gold.fct_daily_sales).",
    "processing_timestamp": GOLD_LINEAGE["processing_timestamp"],
    "layer": GOLD_LINEAGE["layer"],
}

FCT_FINANCE_DAILY = {
    "order_date": "Order date.",
    "category": "Product category ('Unknown' for products not in stg_products).",
    "payment_method": "Payment method ('unknown' when missing).",
    "gross_revenue": "Sum of line_total of completed and returned orders.",
    "total_tax": "Order tax allocated to the group's lines by their share of the order.",
    "total_discounts": "Order discount allocated to the group's lines by their share.",
    "gross_profit": "Revenue - quantity x cost_price over lines with a known cost.",
    "transaction_count": "Distinct orders with a line in the group.",
    "avg_transaction_value": "gross_revenue / transaction_count.",
    "total_refunds": "Revenue of orders refunded (payment_status) or returned (status).",
    "credit_card_revenue": "Revenue paid by credit_card.",
    **GOLD_LINEAGE,
}

SPEND = {
    "total_spend": "Sum of completed order totals.",
    "avg_order_value": "total_spend / completed orders.",
}

FCT_CUSTOMER_INSIGHTS = {
    "customer_id": "Customer identifier (customers with a completed order).",
    "customer_segment": "RFM segment from dim_customer_segments.",
    **SPEND,
    "order_count": "Completed orders.",
    "last_order_date": "Date of the last completed order.",
    "days_since_last_order": "Days from last_order_date to the analysis date.",
    **GOLD_LINEAGE,
}

FCT_MARKETING_CUSTOMERS = {
    "customer_id": "Customer identifier (customers with a completed order).",
    "customer_segment": "RFM segment from dim_customer_segments.",
    "email": "Email.",
    "country": "Country code.",
    "city": "City.",
    "age_group": "Age band (e.g. 25-34, 65+); null when the age is unknown.",
    **SPEND,
    "purchase_frequency": "Completed orders.",
    "preferred_categories": "Sorted distinct categories the customer bought.",
    "last_purchase_date": "Date of the last completed order.",
    **GOLD_LINEAGE,
}

FCT_CUSTOMER_SPEND_TIERS = {
    "customer_id": "Customer identifier (customers with a completed order).",
    "customer_segment": "Spend tier: Premium > 10000, Gold > 5000, Silver > 1000, "
    "else Bronze.",
    **SPEND,
    "frequency": "Completed orders.",
    **GOLD_LINEAGE,
}

FCT_CUSTOMER_LTV = {
    "customer_id": "Customer identifier (customers with a completed order).",
    "total_revenue": "Sum of completed order totals.",
    "total_orders": "Completed orders.",
    "first_purchase": "Date of the first completed order.",
    "last_purchase": "Date of the last completed order.",
    "active_months": "Distinct calendar months with a completed order.",
    "monthly_revenue": "total_revenue / active_months.",
    "months_since_last_purchase": "Whole months from last_purchase to the analysis date.",
    "predicted_ltv": "total_revenue x (1 + max(0, 1 - months_since_last_purchase / 12)).",
    **GOLD_LINEAGE,
}

FCT_HIGH_RISK_ORDERS = {
    "order_id": "Order identifier (only orders with at least one flag).",
    "customer_id": "Customer who placed the order.",
    "order_date": "Order date.",
    "order_status": "Current order status.",
    "payment_status": "Payment status.",
    "order_subtotal": "Sum of the order's line_total.",
    "order_total": "order_subtotal + shipping_cost.",
    "discount_amount": "Discount on the order.",
    "margin_ratio": "Sum(line_total - quantity x cost_price) / order_subtotal.",
    "orders_that_day": "Orders (any status) the customer placed on order_date.",
    "is_high_value": "order_total above the 99th percentile of completed order totals.",
    "is_order_burst": "The customer placed 3 or more orders that day.",
    "is_high_value_refund": "A high-value order that was refunded or returned.",
    "is_large_discount": "discount_amount above half of order_subtotal.",
    "is_new_account_high_value": "First order, within a day of sign-up, above 500.",
    "is_low_margin_high_value": "A high-value order with margin_ratio below 0.2.",
    "risk_reasons": "One explanation per raised flag.",
    "risk_flag_count": "Number of raised flags (>= 1).",
    **GOLD_LINEAGE,
}

FCT_PRODUCT_REORDERS = {
    "product_id": "Product identifier (products sold in completed orders).",
    "product_name": "Product name.",
    "category": "Category.",
    "department": "Department, else category.",
    "total_quantity": "Units sold in completed orders.",
    "total_sales": "Sum of line_total over completed orders.",
    "order_count": "Distinct completed orders with the product.",
    "reorder_rate": "Share of the product's order lines bought by a customer who had bought "
    "it in an earlier order.",
    "avg_days_between_orders": "Mean gap in days between a customer's consecutive purchases "
    "of the product; null when nobody bought it twice.",
    **GOLD_LINEAGE,
}

FCT_DEPARTMENT_ANALYTICS = {
    "department": "Department, else category ('Unknown' for unknown products).",
    "total_sales": "Sum of line_total over completed orders (no shipping).",
    "product_count": "Distinct products sold.",
    "customer_count": "Distinct customers.",
    "order_count": "Distinct completed orders containing the department.",
    "avg_order_value": "total_sales / order_count.",
    **GOLD_LINEAGE,
}

FCT_PRODUCT_PAIRS = {
    "product_a": "First product of the pair (product_a < product_b).",
    "product_b": "Second product of the pair.",
    "co_purchase_count": "Distinct completed orders containing both (>= 5).",
    "support": "co_purchase_count / completed orders with items.",
    "confidence_a_to_b": "co_purchase_count / orders containing product_a.",
    "confidence_b_to_a": "co_purchase_count / orders containing product_b.",
    "lift": "support / (support_a x support_b); > 1 means bought together more than by "
    "chance.",
    **GOLD_LINEAGE,
}

DATA_QUALITY_SUMMARY = {
    "run_id": "Dagster run that evaluated the rule.",
    "table_name": "Checked table (<layer>.<table>).",
    "rule": "Quality rule name.",
    "rows_checked": "Rows the rule looked at (the run's landing dates for daily tables).",
    "rows_failed": "Rows that broke the rule.",
    "rows_quarantined": "Rows the table's quarantine holds for the rule (null where the rule "
    "has no quarantine).",
    "passed": "Whether the rule held within its threshold.",
    "severity": "ERROR (integrity, blocking) or WARN (trend, freshness).",
    "blocking": "A failure stops the table's downstream assets in the run.",
    "threshold": "The rule's threshold, as text.",
    "sample_keys": "JSON list of a few offending keys.",
    "window_start": "First landing date the run checked (null for an unpartitioned run).",
    "window_end": "Last landing date the run checked (null for an unpartitioned run).",
    "checked_at": "When the rule was evaluated (UTC; metadata only).",
}

# --- ml ------------------------------------------------------------------------------------
ML_CUSTOMER_FEATURES = {
    "customer_id": "Customer identifier (every customer of fct_customer_metrics).",
    "is_churn_risk": "Label: 1 when churn_risk is High or Medium, else 0.",
    "country": "Country code.",
    "account_age_days": "Days from account creation to the analysis date.",
    "recency_days": FCT_CUSTOMER_METRICS["recency_days"],
    "frequency": FCT_CUSTOMER_METRICS["frequency"],
    "monetary_value": FCT_CUSTOMER_METRICS["monetary_value"],
    "avg_order_value": FCT_CUSTOMER_METRICS["avg_order_value"],
    **{k: v for k, v in RFM_SCORES.items() if k != "rfm_segment_code"},
    "customer_tenure_days": RFM_CALC["customer_tenure_days"],
    "revenue_per_order": "monetary_value / frequency (0 without orders).",
    "orders_per_month": "frequency x 30 / customer_tenure_days (0 when the tenure is 0).",
    "order_value_volatility": "Sample standard deviation of completed order totals.",
    "max_order_value": "Largest completed order total.",
    "min_order_value": "Smallest completed order total.",
    "avg_days_between_orders": "Mean gap in days between consecutive completed orders.",
    "order_trend_ratio": "Orders in the last 90 days / orders in the 90 days before (as of "
    "the analysis date); null with fewer than 3 orders or none in the earlier window.",
    "is_active_last_30d": "1 when recency_days <= 30.",
    "is_active_last_90d": "1 when recency_days <= 90.",
    **PREDICTED_CLV,
    "clv_growth_multiplier": "predicted_clv_12m / monetary_value (0 without orders).",
}


def _bronze_tables() -> dict[str, dict[str, str]]:
    tables = {}
    for dataset, spec in DATASETS.items():
        columns = LANDING_COLUMNS[dataset]
        tables[f"bronze.{dataset}"] = {
            **{c: columns[c] for c in spec.columns},
            **BRONZE_METADATA,
        }
        tables[f"bronze.quarantine_{dataset}"] = BRONZE_QUARANTINE
        tables[f"bronze.ledger_{dataset}"] = BRONZE_LEDGER
    return tables


COLUMN_DESCRIPTIONS: dict[str, dict[str, str]] = {
    **_bronze_tables(),
    "silver.stg_customers": STG_CUSTOMERS,
    "silver.stg_products": STG_PRODUCTS,
    "silver.stg_orders": STG_ORDERS,
    "silver.stg_order_items": STG_ORDER_ITEMS,
    "silver.quarantine_customers": _silver_quarantine("customer_id"),
    "silver.quarantine_products": _silver_quarantine("product_id"),
    "silver.quarantine_orders": _silver_quarantine("order_id"),
    "silver.quarantine_order_items": _silver_quarantine("order_item_id"),
    "silver.int_customer_orders": INT_CUSTOMER_ORDERS,
    "silver.int_customer_summary": INT_CUSTOMER_SUMMARY,
    "silver.int_customer_rfm": {**RFM_CALC, **RFM_SCORES},
    "silver.int_product_metrics": {**PRODUCT_COLUMNS, **SALES_METRICS},
    "gold.fct_customer_metrics": FCT_CUSTOMER_METRICS,
    "gold.dim_customer_segments": DIM_CUSTOMER_SEGMENTS,
    "gold.fct_customer_insights": FCT_CUSTOMER_INSIGHTS,
    "gold.fct_marketing_customers": FCT_MARKETING_CUSTOMERS,
    "gold.fct_customer_spend_tiers": FCT_CUSTOMER_SPEND_TIERS,
    "gold.fct_customer_ltv": FCT_CUSTOMER_LTV,
    "gold.fct_high_risk_orders": FCT_HIGH_RISK_ORDERS,
    "gold.fct_product_performance": FCT_PRODUCT_PERFORMANCE,
    "gold.fct_product_reorders": FCT_PRODUCT_REORDERS,
    "gold.fct_department_analytics": FCT_DEPARTMENT_ANALYTICS,
    "gold.fct_product_pairs": FCT_PRODUCT_PAIRS,
    "gold.fct_daily_sales": FCT_DAILY_SALES,
    "gold.fct_user_daily_spend": FCT_USER_DAILY_SPEND,
    "gold.fct_sales_forecast": FCT_SALES_FORECAST,
    "gold.fct_finance_daily": FCT_FINANCE_DAILY,
    "gold.data_quality_summary": DATA_QUALITY_SUMMARY,
    "ml.ml_customer_features": ML_CUSTOMER_FEATURES,
}


def column_descriptions(layer: str, table: str) -> dict[str, str]:
    """Column -> description of ``<layer>.<table>`` (empty for a table not described here)."""
    return dict(COLUMN_DESCRIPTIONS.get(f"{layer}.{table}", {}))
