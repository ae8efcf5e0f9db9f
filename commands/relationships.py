"""Handler for a product's relationships stream (``HANDLERS``): whether both products exist
is read from the write side (``WriteSide.products``), then decided with the stream."""

from __future__ import annotations

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.relationship import commands as cmd
from domain.relationship import decide
from domain.relationship.state import RELATIONSHIPS, relationships_stream


def relate(w: WriteSide, c: cmd.RelateProducts, ctx: CommandContext) -> Outcome:
    found = w.products.current([c.product_id, c.related_product_id])

    def decision(state, _v: int):
        return decide.relate(
            state,
            c,
            product_exists=found[c.product_id].exists,
            related_exists=found[c.related_product_id].exists,
            by=ctx.actor,
        )

    return execute(w.store, RELATIONSHIPS, relationships_stream(c.product_id), decision, ctx)


HANDLERS = {cmd.RelateProducts: relate}
