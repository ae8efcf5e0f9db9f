"""Read models of the order area, in the order the runner advances them."""

from projections.order_detail import OrderDetailView
from projections.order_modifications import OrderModificationsView
from projections.order_summaries import OrderSummariesView
from projections.order_timeline import OrderTimelineView

VIEWS: list = [
    OrderDetailView(),
    OrderSummariesView(),
    OrderTimelineView(),
    OrderModificationsView(),
]
