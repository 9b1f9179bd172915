-- Silver -> intermediate -> gold -> ML on DuckDB: the rules of
-- lakehouse_assets/transforms/{silver,intermediate,customers,products,ml}.py, including the
-- project's fixes to the original design's SQL (analysis date = latest completed order date instead of
-- CURRENT_DATE, no null totals for orders without items, guarded divisions, explicit
-- 'Never Purchased' / 'Prospects' for customers without a completed order).
--
-- Input: the tables bronze_customers, bronze_products, bronze_orders, bronze_order_items that
-- duckdb_pipeline.py reads from the landing CSV files: the contract's columns, typed, plus
-- _landing_date (from the path), _source_file and _file_order (row position in file order).
--
-- One statement per step; duckdb_pipeline.py runs (and times) them in file order.
-- (No semicolons inside comments: the file is split into statements on them.)


-- ===== helpers ==============================================================================

-- Spark's initcap: lower-case, then upper-case the first letter of every space-separated word.
CREATE MACRO initcap(s) AS
    array_to_string(
        list_transform(string_split(lower(s), ' '), lambda w: upper(left(w, 1)) || substr(w, 2)),
        ' '
    );

-- Silver's "missing:<col>" for text: null, empty or only spaces.
CREATE MACRO present(s) AS s IS NOT NULL AND trim(s) <> '';

-- Silver's money type. Out of range -> null (silver quarantines it as out_of_range:<col>).
CREATE MACRO money(x) AS TRY_CAST(x AS DECIMAL(10, 2));

-- A money value silver accepts: not negative and fits decimal(10,2).
CREATE MACRO money_ok(x) AS x >= 0 AND money(x) IS NOT NULL;

-- Silver's plausibility rules at the default limits of resources.QualitySettings: a price at
-- most 100,000, a quantity at most 10,000, a date at most one day after its landing date, an
-- order not before 2000-01-01, and a timestamp bronze can store (1900-01-01 .. 2199-12-31).
CREATE MACRO price_ok(x) AS x <= 100000;
CREATE MACRO storable(ts) AS ts >= TIMESTAMP '1900-01-01' AND ts < TIMESTAMP '2200-01-01';
CREATE MACRO not_future(ts, landing) AS CAST(ts AS DATE) <= landing + INTERVAL 1 DAY;

-- n / d * 100 rounded half away from zero to 2 decimals, as decimal(5,2) (null if it does not
-- fit or d is 0), computed exactly in integer cents: Spark divides decimals exactly, DuckDB
-- would divide them as DOUBLE, which can round a tie like 45.125 down.
CREATE MACRO percent_2dp(n, d) AS
    TRY_CAST(
        CAST(
            sign(CAST(n * 100 AS HUGEINT))
            * ((abs(CAST(n * 100 AS HUGEINT)) * 20000 + CAST(d * 100 AS HUGEINT))
               // NULLIF(2 * CAST(d * 100 AS HUGEINT), 0))
            AS DECIMAL(38, 0)
        ) * 0.01
        AS DECIMAL(5, 2)
    );


-- ===== silver ===========================================================
-- Per key: among valid rows, the latest landing date wins, then the last row in file order.
-- Within one landing date only the last row of a key is a version at all (earlier rows are
-- duplicate_key_in_landing_date), so a valid version is the last row of its key and day.

CREATE TABLE stg_customers AS
WITH versions AS (
    SELECT
        *,
        present(customer_id) AND present(email) AND present(first_name)
            AND present(last_name) AND present(country) AND created_at IS NOT NULL
            AND storable(created_at) AND not_future(created_at, _landing_date)
            AND contains(email, '@') AS is_valid,
        row_number() OVER (
            PARTITION BY customer_id, _landing_date ORDER BY _source_file DESC, _file_order DESC
        ) AS position_in_landing_date
    FROM bronze_customers
)
SELECT
    customer_id,
    lower(trim(email)) AS email,
    initcap(trim(first_name)) AS first_name,
    initcap(trim(last_name)) AS last_name,
    upper(trim(country)) AS country,
    CAST(created_at AS DATE) AS customer_created_at,
    phone,
    city,
    age,
    contains(email, '@') AS is_valid_email,
    _landing_date
FROM versions
WHERE is_valid AND position_in_landing_date = 1
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY _landing_date DESC) = 1;


CREATE TABLE stg_products AS
WITH versions AS (
    SELECT
        *,
        present(product_id) AND present(product_name) AND present(category)
            AND money_ok(cost_price) AND money_ok(list_price)
            AND price_ok(cost_price) AND price_ok(list_price) AS is_valid,
        row_number() OVER (
            PARTITION BY product_id, _landing_date ORDER BY _source_file DESC, _file_order DESC
        ) AS position_in_landing_date
    FROM bronze_products
)
SELECT
    product_id,
    trim(product_name) AS product_name,
    initcap(trim(category)) AS category,
    department,
    supplier_id,
    stock_level,
    reorder_point,
    money(cost_price) AS cost_price,
    money(list_price) AS list_price,
    -- margins from the rounded silver prices, so profit_margin = list_price - cost_price
    money(money(list_price) - money(cost_price)) AS profit_margin,
    percent_2dp(money(list_price) - money(cost_price), money(list_price)) AS profit_margin_pct,
    _landing_date
FROM versions
WHERE is_valid AND position_in_landing_date = 1
QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY _landing_date DESC) = 1;


CREATE TABLE stg_orders AS
WITH versions AS (
    SELECT
        *,
        present(order_id) AND present(customer_id) AND present(status)
            AND order_date IS NOT NULL AND money_ok(shipping_cost)
            AND storable(order_date) AND not_future(order_date, _landing_date)
            AND order_date >= TIMESTAMP '2000-01-01'
            AND (tax_amount IS NULL OR money_ok(tax_amount))
            AND (discount_amount IS NULL OR money_ok(discount_amount)) AS is_valid,
        row_number() OVER (
            PARTITION BY order_id, _landing_date ORDER BY _source_file DESC, _file_order DESC
        ) AS position_in_landing_date
    FROM bronze_orders
)
SELECT
    order_id,
    customer_id,
    CAST(order_date AS DATE) AS order_date,
    lower(trim(status)) AS order_status,
    money(shipping_cost) AS shipping_cost,
    year(order_date) AS order_year,
    month(order_date) AS order_month,
    quarter(order_date) AS order_quarter,
    strftime(order_date, '%A') AS order_day_of_week,
    -- the normalised status (the original design compares the raw one)
    lower(trim(status)) = 'completed' AS is_completed,
    payment_method,
    payment_status,
    currency,
    money(tax_amount) AS tax_amount,
    money(discount_amount) AS discount_amount,
    _landing_date
FROM versions
WHERE is_valid AND position_in_landing_date = 1
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _landing_date DESC) = 1;


-- Orders that were sent but have no valid version.
CREATE TABLE rejected_orders AS
SELECT DISTINCT order_id FROM bronze_orders
WHERE present(order_id) AND order_id NOT IN (SELECT order_id FROM stg_orders);


CREATE TABLE stg_order_items AS
WITH versions AS (
    SELECT
        *,
        present(order_item_id) AND present(order_id) AND present(product_id)
            AND quantity > 0 AND money_ok(unit_price)
            AND quantity <= 10000 AND price_ok(unit_price)
            AND money(quantity * money(unit_price)) IS NOT NULL
            -- the items of an order silver holds no valid version of are rejected with it
            AND order_id NOT IN (SELECT order_id FROM rejected_orders) AS is_valid,
        row_number() OVER (
            PARTITION BY order_item_id, _landing_date
            ORDER BY _source_file DESC, _file_order DESC
        ) AS position_in_landing_date
    FROM bronze_order_items
)
SELECT
    order_item_id,
    order_id,
    product_id,
    quantity,
    money(unit_price) AS unit_price,
    -- from the silver unit price, so line_total = quantity * unit_price
    money(quantity * money(unit_price)) AS line_total,
    _landing_date
FROM versions
WHERE is_valid AND position_in_landing_date = 1
QUALIFY row_number() OVER (PARTITION BY order_item_id ORDER BY _landing_date DESC) = 1;


-- ===== intermediate =====================================================

-- One row per completed order. An order without items costs its shipping only.
CREATE TABLE int_customer_orders AS
SELECT
    o.order_id,
    o.customer_id,
    o.order_date,
    o.shipping_cost,
    COALESCE(SUM(oi.line_total), 0) AS order_subtotal,
    COALESCE(SUM(oi.line_total), 0) + o.shipping_cost AS order_total,
    COUNT(oi.order_item_id) AS items_count
FROM stg_orders o
LEFT JOIN stg_order_items oi ON o.order_id = oi.order_id
WHERE o.is_completed
GROUP BY o.order_id, o.customer_id, o.order_date, o.shipping_cost;


-- "As of": the latest completed order date (the original design uses CURRENT_DATE).
CREATE TABLE analysis_date AS
SELECT MAX(order_date) AS analysis_date FROM int_customer_orders;


CREATE TABLE int_customer_rfm AS
WITH rfm_calc AS (
    SELECT
        co.customer_id,
        ad.analysis_date - MAX(co.order_date) AS recency_days,
        COUNT(DISTINCT co.order_id) AS frequency,
        SUM(co.order_total) AS monetary_value,
        AVG(co.order_total) AS avg_order_value,
        MIN(co.order_date) AS first_order_date,
        MAX(co.order_date) AS last_order_date,
        MAX(co.order_date) - MIN(co.order_date) AS customer_tenure_days
    FROM int_customer_orders co
    CROSS JOIN analysis_date ad
    GROUP BY co.customer_id, ad.analysis_date
),

rfm_scores AS (
    SELECT
        *,
        CASE
            WHEN recency_days <= 30 THEN 5
            WHEN recency_days <= 60 THEN 4
            WHEN recency_days <= 90 THEN 3
            WHEN recency_days <= 180 THEN 2
            ELSE 1
        END AS recency_score,
        CASE
            WHEN frequency >= 5 THEN 5
            WHEN frequency >= 4 THEN 4
            WHEN frequency >= 3 THEN 3
            WHEN frequency >= 2 THEN 2
            ELSE 1
        END AS frequency_score,
        CASE
            WHEN monetary_value >= 500 THEN 5
            WHEN monetary_value >= 300 THEN 4
            WHEN monetary_value >= 200 THEN 3
            WHEN monetary_value >= 100 THEN 2
            ELSE 1
        END AS monetary_score
    FROM rfm_calc
)

SELECT
    *,
    recency_score + frequency_score + monetary_score AS rfm_total_score,
    CONCAT(recency_score, frequency_score, monetary_score) AS rfm_segment_code
FROM rfm_scores;


-- Sales per product over completed orders, every product kept (zeros where unsold).
CREATE TABLE int_product_metrics AS
WITH product_sales AS (
    SELECT
        oi.product_id,
        COUNT(DISTINCT o.order_id) AS orders_count,
        COUNT(DISTINCT o.customer_id) AS customers_count,
        SUM(oi.quantity) AS units_sold,
        SUM(oi.line_total) AS revenue,
        AVG(oi.unit_price) AS avg_selling_price,
        MIN(o.order_date) AS first_sale_date,
        MAX(o.order_date) AS last_sale_date
    FROM stg_order_items oi
    JOIN stg_orders o ON oi.order_id = o.order_id
    WHERE o.is_completed
    GROUP BY oi.product_id
)

SELECT
    p.product_id,
    p.product_name,
    p.category,
    p.cost_price,
    p.list_price,
    p.profit_margin,
    p.profit_margin_pct,
    COALESCE(ps.orders_count, 0) AS orders_count,
    COALESCE(ps.customers_count, 0) AS customers_count,
    COALESCE(ps.units_sold, 0) AS units_sold,
    COALESCE(ps.revenue, 0) AS revenue,
    COALESCE(ps.avg_selling_price, 0) AS avg_selling_price,
    COALESCE(ps.revenue - ps.units_sold * p.cost_price, 0) AS total_profit,
    ps.first_sale_date,
    ps.last_sale_date
FROM stg_products p
LEFT JOIN product_sales ps ON p.product_id = ps.product_id;


-- ===== gold =============================================================

-- One row per silver customer: zeros and 'Never Purchased' without a completed order.
CREATE TABLE fct_customer_metrics AS
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
FROM stg_customers c
LEFT JOIN int_customer_rfm r ON c.customer_id = r.customer_id;


-- Segment and recommended action, rules in the original design's order (no completed order first).
CREATE TABLE dim_customer_segments AS
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
FROM fct_customer_metrics;


-- Ranks (ties by product_id), category revenue share (0 where the category sold nothing) and
-- tiers against percentile_cont over ALL products' revenue, computed as DOUBLE as Spark does.
CREATE TABLE fct_product_performance AS
WITH percentile_stats AS (
    SELECT
        quantile_cont(CAST(revenue AS DOUBLE), 0.8) AS p80,
        quantile_cont(CAST(revenue AS DOUBLE), 0.5) AS p50,
        quantile_cont(CAST(revenue AS DOUBLE), 0.2) AS p20
    FROM int_product_metrics
)

SELECT
    ipm.*,
    ROW_NUMBER() OVER (ORDER BY ipm.revenue DESC, ipm.product_id) AS revenue_rank,
    ROW_NUMBER() OVER (ORDER BY ipm.units_sold DESC, ipm.product_id) AS units_rank,
    ROW_NUMBER() OVER (ORDER BY ipm.total_profit DESC, ipm.product_id) AS profit_rank,
    COALESCE(
        ipm.revenue / NULLIF(SUM(ipm.revenue) OVER (PARTITION BY ipm.category), 0), 0
    ) AS category_revenue_share,
    CASE
        WHEN ipm.revenue >= ps.p80 THEN 'Star'
        WHEN ipm.revenue >= ps.p50 THEN 'Performer'
        WHEN ipm.revenue >= ps.p20 THEN 'Average'
        ELSE 'Underperformer'
    END AS performance_tier
FROM int_product_metrics ipm
CROSS JOIN percentile_stats ps;


-- ===== ML features ===========================================================

-- Gaps between a customer's orders are computed per order and averaged outside (the original design nests
-- LAG inside AVG), everything as of the analysis date, divisions guarded.
CREATE TABLE ml_customer_features AS
WITH order_gaps AS (
    SELECT
        customer_id,
        order_date,
        order_total,
        order_date - LAG(order_date) OVER (PARTITION BY customer_id ORDER BY order_date, order_id)
            AS days_since_previous_order
    FROM int_customer_orders
),

customer_behavior AS (
    SELECT
        og.customer_id,
        STDDEV_SAMP(og.order_total) AS order_value_volatility,
        MAX(og.order_total) AS max_order_value,
        MIN(og.order_total) AS min_order_value,
        AVG(og.days_since_previous_order) AS avg_days_between_orders,
        -- orders in the last 90 days / orders in the 90 days before (null if none)
        CASE
            WHEN COUNT(*) >= 3 THEN
                CAST(SUM(CASE WHEN og.order_date >= ad.analysis_date - 90 THEN 1 ELSE 0 END) AS DOUBLE)
                / NULLIF(SUM(CASE WHEN og.order_date >= ad.analysis_date - 180
                                   AND og.order_date < ad.analysis_date - 90
                                  THEN 1 ELSE 0 END), 0)
            ELSE NULL
        END AS order_trend_ratio
    FROM order_gaps og
    CROSS JOIN analysis_date ad
    GROUP BY og.customer_id, ad.analysis_date
)

SELECT
    cm.customer_id,
    CASE WHEN cm.churn_risk IN ('High', 'Medium') THEN 1 ELSE 0 END AS is_churn_risk,
    cm.country,
    ad.analysis_date - cm.customer_created_at AS account_age_days,
    cm.recency_days,
    cm.frequency,
    cm.monetary_value,
    cm.avg_order_value,
    cm.recency_score,
    cm.frequency_score,
    cm.monetary_score,
    cm.rfm_total_score,
    cm.customer_tenure_days,
    CASE WHEN cm.frequency > 0 THEN cm.monetary_value / cm.frequency ELSE 0 END
        AS revenue_per_order,
    CASE WHEN cm.customer_tenure_days > 0 THEN cm.frequency * 30.0 / cm.customer_tenure_days ELSE 0 END
        AS orders_per_month,
    cb.order_value_volatility,
    cb.max_order_value,
    cb.min_order_value,
    cb.avg_days_between_orders,
    cb.order_trend_ratio,
    CASE WHEN cm.recency_days <= 30 THEN 1 ELSE 0 END AS is_active_last_30d,
    CASE WHEN cm.recency_days <= 90 THEN 1 ELSE 0 END AS is_active_last_90d,
    cm.predicted_clv_12m,
    CASE WHEN cm.monetary_value > 0 THEN cm.predicted_clv_12m / cm.monetary_value ELSE 0 END
        AS clv_growth_multiplier
FROM fct_customer_metrics cm
CROSS JOIN analysis_date ad
LEFT JOIN customer_behavior cb ON cm.customer_id = cb.customer_id;
