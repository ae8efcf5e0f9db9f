"""Read models for auditors and analysts: privacy erasure and the analytics views."""

from projections.privacy_erasure import PrivacyErasureView

VIEWS: list = [
    PrivacyErasureView(),
]
