"""The Pricing area: pricing rules and the effective price an order line pays.

``rules`` holds what a rule is (its type, scope, configuration, priority and validity) and how
a rule's input is checked; ``events``, ``state`` and ``commands`` the PricingRule aggregate;
``decide`` its decisions; ``effective`` the one function that says what a line pays."""
