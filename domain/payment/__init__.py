"""Payment: one stream per order payment: authorizations, captures, voids and refunds.

``events`` holds its events, ``state`` its decision state, evolution and derived payment status,
``decide`` its decisions."""
