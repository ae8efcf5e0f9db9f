"""The Customer area: for now, the right to be forgotten.

``commands`` holds its command (ForgetCustomer), ``events`` its events, ``state`` its privacy
state and evolution, ``decide`` the decision to forget a customer."""
