"""Suppliers, purchase orders and replenishment: the supply side of inventory (pure).

``events.py`` the facts; ``commands.py`` the messages; ``suppliers.py`` the Supplier aggregate
and the per-SKU list of who supplies it; ``purchase_orders.py`` the Purchase order aggregate;
``replenishment.py`` the per-(SKU, location) suggestion stream and how much to order from whom.
"""
