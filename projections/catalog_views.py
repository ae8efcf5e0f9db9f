"""Read models of the catalog area, in the order the runner advances them."""

VIEWS: list = []
