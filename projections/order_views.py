"""Read models of the order area, in the order the runner advances them."""

from projections.cancellation_requests import CancellationRequestsView
from projections.fulfillment import FulfillmentView
from projections.order_detail import OrderDetailView
from projections.order_modifications import OrderModificationsView
from projections.order_summaries import OrderSummariesView
from projections.order_timeline import OrderTimelineView
from projections.payments_ledger import PaymentsLedgerView
from projections.pick_list import PickListView
from projections.returns import ReturnsView

VIEWS: list = [
    OrderDetailView(),
    OrderSummariesView(),
    OrderTimelineView(),
    OrderModificationsView(),
    PaymentsLedgerView(),
    CancellationRequestsView(),
    PickListView(),
    FulfillmentView(),
    ReturnsView(),
]
