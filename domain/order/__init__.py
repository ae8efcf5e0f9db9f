"""Order: a customer's purchase through one channel, in one currency.

ORDER_EVENTS lists every event class of this package for the event registry."""

from domain.order.events import ORDER_STREAM_EVENTS, ChannelOrderClaimed
from domain.order.state import ORDER, OrderState

ORDER_EVENTS: tuple = (*ORDER_STREAM_EVENTS, ChannelOrderClaimed)

__all__ = ["ORDER", "ORDER_EVENTS", "OrderState"]
