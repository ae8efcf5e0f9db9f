"""Read models of the inventory area, in the order the runner advances them."""

from projections.inventory_levels import InventoryLevelsView
from projections.inventory_movements import InventoryMovementsView
from projections.skus import SkusView

VIEWS: list = [InventoryLevelsView(), InventoryMovementsView(), SkusView()]
