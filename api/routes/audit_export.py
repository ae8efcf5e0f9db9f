"""``GET /audit/export``: an export of the log an auditor downloads and checks offline with
the standalone verifier (``audit/ecom_verify.py``): a header, the events from
``from_position`` in full (each with its leaf and leaf hash), and a tree head signed with the
server's audit key (``audit.export``, as ``ecom events export`` writes it). JSON lines, or CSV
with ``?format=csv``. At most ``MAX_EVENTS`` events in full per request: a longer range is
exported in parts (the later parts carry the hashes of the earlier ones in their header)."""

from __future__ import annotations

import tempfile
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import ContainerDep
from api.errors import ApiError
from api.schemas import ERRORS
from audit.export import export_events

router = APIRouter(tags=["audit"], responses=ERRORS)
BIGINT_MAX = 2**63 - 1
MAX_EVENTS = 100_000
#: Kept in memory up to this size, then in a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export (JSON lines, or CSV with ``?format=csv``)",
            "content": {m: {"schema": {"type": "string"}} for m in MEDIA.values()},
        }
    },
)
def export(
    container: ContainerDep,
    from_position: Annotated[int, Query(ge=1, le=BIGINT_MAX)] = 1,
    to_position: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="default: the last event")
    ] = None,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
):
    """The events ``from_position..to_position`` in full, with the signed tree head over
    ``1..to_position``."""
    tree = container.tree
    if tree is None or tree.key is None:
        raise ApiError(503, "audit_tree_unavailable", "No audit key is kept by this server.")
    last = to_position if to_position is not None else container.store.head()
    if to_position is not None and to_position < from_position:
        raise ApiError(
            422, "invalid_position_range", "'to_position' must not be before 'from_position'."
        )
    if last - from_position + 1 > MAX_EVENTS:
        raise ApiError(
            422,
            "export_too_large",
            f"At most {MAX_EVENTS} events per export; ask for a shorter range.",
            {"max_events": MAX_EVENTS},
        )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed below
    export_events(
        container.pool,
        tree.key,
        spool,
        from_position=from_position,
        to_position=last,
        fmt=fmt,
        now_ms=int(time.time() * 1000),
    )
    spool.seek(0)

    def chunks():
        try:
            while block := spool.read(64 * 1024):
                yield block
        finally:
            spool.close()

    name = f"ecom-export-{from_position}-{last}.{fmt}"
    return StreamingResponse(
        chunks(),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
