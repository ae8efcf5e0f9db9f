"""The commands of the Product aggregate, as messages: create a product, change its details,
price and lifecycle, its variants and its categories.

The new product's id is not in ``CreateProduct``: the handler makes it. A field whose value
the command type already bounds (a SKU's form, a price's, a status) is refused where the
command is built; the decisions (``decide.py``) check the rules that need the product."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from domain.command import Command, MoneyIn, Sku, json_safe

Lifecycle = Literal["draft", "pending_approval", "active", "discontinued", "archived"]
ChangeType = Literal["manual", "rule_based", "automated", "competitor_match"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
OptionKey = Annotated[str, Field(min_length=1, max_length=64)]
OptionValue = Annotated[str, Field(min_length=1, max_length=200)]
Options = Annotated[dict[OptionKey, OptionValue], Field(min_length=1, max_length=20)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Attributes = Annotated[dict[OptionKey, Any], Field(max_length=200), AfterValidator(json_safe)]


class NewVariant(Command):
    """A variant of the new product: its SKU, options and own price (else the product's)."""

    sku: Sku
    options: Options
    price: MoneyIn | None = None


class CreateProduct(Command):
    sku: Sku
    name: Name
    description: Text = ""
    brand: Name | None = None
    category_ids: Annotated[list[UUID], Field(max_length=50)] = []
    attributes: Attributes = {}
    price: MoneyIn
    variants: Annotated[list[NewVariant], Field(max_length=100)] = []
    #: The marketplace merchant selling it (none: our own product).
    merchant_id: UUID | None = None


class UpdateProductDetails(Command):
    """Only the fields present are changed; ``brand`` may be cleared with null."""

    # The fields present are ``model_fields_set``; the others' ``None`` is no value, and a
    # null given for them is refused (their type is not optional).

    product_id: UUID
    name: Name = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]
    brand: Name | None = None
    attributes: Attributes = None  # type: ignore[assignment]


class ChangePrice(Command):
    product_id: UUID
    price: MoneyIn
    reason: Reason
    change_type: ChangeType = "manual"


class ChangeLifecycle(Command):
    product_id: UUID
    status: Lifecycle
    reason: Reason | None = None


class AddVariant(Command):
    product_id: UUID
    sku: Sku
    options: Options
    price: MoneyIn | None = None


class DeactivateVariant(Command):
    product_id: UUID
    #: Any text: a SKU the product has no variant of is not found (``variant_not_found``).
    sku: str
    reason: Reason | None = None


class SetMasterVariant(Command):
    product_id: UUID
    sku: Sku


class AssignCategory(Command):
    product_id: UUID
    category_id: UUID


class UnassignCategory(Command):
    product_id: UUID
    category_id: UUID
