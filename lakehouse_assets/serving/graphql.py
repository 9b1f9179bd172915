"""GraphQL schema for products (Strawberry): ``product(id)`` and ``productsByCategory``.

Money and prices are the ``Decimal`` scalar (a string on the wire, never a float), dates
``Date`` (ISO 8601). A request is refused before it runs when it is nested deeper than
``MAX_DEPTH`` or costs more than ``MAX_COST``: each ``product`` field costs 1 and each
``productsByCategory`` field its page size (``first``, counted at the maximum when it is a
variable), so aliases cannot multiply the work. Every field of one request reads the same
version of the products table (the context is the request's ``Read``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

import strawberry
from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode, IntValueNode, OperationDefinitionNode
from strawberry.extensions import AddValidationRules, QueryDepthLimiter
from strawberry.types import Info

from lakehouse_assets.serving import queries
from lakehouse_assets.serving.config import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from lakehouse_assets.serving.errors import ApiError

MAX_DEPTH = 5
MAX_COST = 2 * MAX_PAGE_SIZE


@strawberry.type
class Product:
    id: str
    name: str | None
    category: str | None
    performance_tier: str
    units_sold: int
    revenue: Decimal
    average_unit_price: Decimal | None = strawberry.field(
        description="Average unit price over the product's completed order lines.")
    unique_customers: int
    orders: int
    total_profit: Decimal
    revenue_rank: int
    first_sale_date: dt.date | None
    last_sale_date: dt.date | None

    @classmethod
    def from_row(cls, row: dict) -> "Product":
        return cls(
            id=row["product_id"], name=row["product_name"], category=row["category"],
            performance_tier=row["performance_tier"], units_sold=row["units_sold"],
            revenue=row["revenue"], average_unit_price=row["avg_selling_price"],
            unique_customers=row["customers_count"], orders=row["orders_count"],
            total_profit=row["total_profit"], revenue_rank=row["revenue_rank"],
            first_sale_date=row["first_sale_date"], last_sale_date=row["last_sale_date"],
        )


@strawberry.enum
class ProductSort(Enum):
    REVENUE = "revenue"
    UNITS_SOLD = "units_sold"
    UNIQUE_CUSTOMERS = "customers_count"
    ID = "product_id"


@strawberry.type
class ProductPage:
    items: list[Product]
    next_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null on the last page.")


@strawberry.type
class Query:
    @strawberry.field(description="One product by id; null when there is none.")
    def product(self, info: Info, id: str) -> Product | None:
        row = queries.product(info.context, id)
        return Product.from_row(row) if row else None

    @strawberry.field(description="Products of a category, by revenue (descending) unless "
                      "sorted otherwise; `first` at most " + str(MAX_PAGE_SIZE) + ".")
    def products_by_category(self, info: Info, category: str, first: int = DEFAULT_PAGE_SIZE,
                             after: str | None = None,
                             sort_by: ProductSort = ProductSort.REVENUE,
                             descending: bool = True) -> ProductPage:
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise ApiError(422, "invalid_parameter", f"first must be 1..{MAX_PAGE_SIZE}")
        page = queries.products(info.context, tier=None, category=category, sort=sort_by.value,
                                descending=descending, limit=first, cursor=after)
        return ProductPage(items=[Product.from_row(r) for r in page.rows],
                           next_cursor=page.next_cursor)


def _field_cost(node: FieldNode) -> int:
    if node.name.value != "productsByCategory":
        return 1
    for argument in node.arguments:
        if argument.name.value == "first":
            value = argument.value
            return int(value.value) if isinstance(value, IntValueNode) else MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


class CostLimit(ValidationRule):
    """Sum of the root fields' costs (fragments at the root count their fields too)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        fragments = {f.name.value: f for f in self.context.document.definitions
                     if f.kind == "fragment_definition"}
        cost, pending, seen = 0, list(node.selection_set.selections), set()
        while pending:
            selection = pending.pop()
            if isinstance(selection, FieldNode):
                cost += _field_cost(selection)
            elif selection.kind == "inline_fragment":
                pending.extend(selection.selection_set.selections)
            elif selection.name.value in fragments.keys() - seen:  # a fragment spread, once
                seen.add(selection.name.value)
                pending.extend(fragments[selection.name.value].selection_set.selections)
        if cost > MAX_COST:
            self.report_error(GraphQLError(
                f"query cost {cost} exceeds the limit of {MAX_COST} (product: 1, "
                f"productsByCategory: its page size `first`)", node))


schema = strawberry.Schema(
    query=Query,
    extensions=[QueryDepthLimiter(max_depth=MAX_DEPTH), AddValidationRules([CostLimit])],
)
