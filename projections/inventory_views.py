"""Read models of the inventory area, in the order the runner advances them."""

VIEWS: list = []
