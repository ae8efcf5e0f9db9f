"""Read models of the order area, in the order the runner advances them."""

VIEWS: list = []
