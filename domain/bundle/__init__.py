"""The Bundle aggregate: a SKU sold as a set of other SKUs (its components), priced from them.

A bundle is its own aggregate, not a product: it has no stock of its own (the placement saga
reserves its components), no variants and no lifecycle, and its price is a formula over the
components' current prices. It shares the products' SKU registry (``domain.product.sku``), so
a SKU names a product, a variant or a bundle, never two.

``commands`` holds CreateBundle, ``events`` BundleCreated, ``state`` the state and ``evolve``,
``pricing`` the price formulas, ``decide`` the decision with the
components' facts the handler read from the write side."""
