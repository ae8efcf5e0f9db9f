"""Read models of the catalog area, in the order the runner advances them."""

from projections.category_tree import CategoryTreeView
from projections.product_catalog import ProductCatalogView
from projections.product_history import ProductHistoryView

VIEWS: list = [ProductCatalogView(), ProductHistoryView(), CategoryTreeView()]
