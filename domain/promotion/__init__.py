"""The Promotion aggregate: a discount with an optional code, a target (the order, some
products, the shipping), a kind (percentage or fixed amount), conditions, a validity window,
usage limits and a stackable flag, moving ``draft → active ⇄ paused → ended``.

Modules: ``events.py`` (the promotion's events, its code claim, its redemption and the
customer order ledger events), ``state.py`` (states and ``evolve``), ``commands.py``,
``decide.py`` (lifecycle decisions and input checks), ``discounts.py`` (the pure discount
math of a placement), ``redemptions.py`` (claiming and giving back a limited use)."""
