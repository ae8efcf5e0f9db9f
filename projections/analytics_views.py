"""Read models for auditors and analysts: privacy erasure and the analytics facts."""

from projections.analytics_orders import AnalyticsOrdersView
from projections.privacy_erasure import PrivacyErasureView

VIEWS: list = [
    PrivacyErasureView(),
    AnalyticsOrdersView(),
]
