"""The same-run baseline for the HTTP ratios (``bench/ratios.py``): what a careful engineer
could write in an afternoon without event sourcing. FastAPI + pydantic + psycopg's
``AsyncConnectionPool`` (4 to 8 connections). ``POST /orders`` validates a body shaped like
ours and INSERTs one jsonb row; ``GET /orders/{id}`` selects it; ``GET /health`` answers.

    ECOM_BASELINE_DATABASE_URL=postgresql://... \\
        uvicorn bench.baseline_app:create_app --factory --port 8001 --workers 1
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Literal
from uuid import UUID, uuid4

import orjson
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

DATABASE_URL_ENV = "ECOM_BASELINE_DATABASE_URL"
UNIT_PRICE = Decimal("9.99")


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000)


class Address(BaseModel):
    name: str
    line1: str
    city: str
    postal_code: str
    country: str = Field(min_length=2, max_length=2)


class Payment(BaseModel):
    method: Literal["card"]
    token: str


class PlaceOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: UUID
    currency: str = Field(min_length=3, max_length=3)
    lines: list[Line] = Field(min_length=1, max_length=100)
    shipping_address: Address
    payment: Payment


def create_app(database_url: str | None = None) -> FastAPI:
    """The app on ``database_url`` (default: the ``ECOM_BASELINE_DATABASE_URL`` variable).
    Its table is created on start (under an advisory lock: several workers start at once)."""
    url = database_url or os.environ[DATABASE_URL_ENV]
    pool = AsyncConnectionPool(url, min_size=4, max_size=8, open=False)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7331)")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS orders (id uuid PRIMARY KEY, doc jsonb NOT NULL)"
            )
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders", status_code=201)
    async def place(body: PlaceOrder) -> dict:
        order_id = uuid4()
        units = sum(line.quantity for line in body.lines)
        doc = body.model_dump(mode="json") | {"status": "pending", "total": str(UNIT_PRICE * units)}
        async with pool.connection() as conn:
            await conn.execute("INSERT INTO orders VALUES (%s, %s)", (order_id, Jsonb(doc)))
        return {"id": str(order_id), "status": "pending"}

    @app.get("/orders/{order_id}")
    async def read(order_id: UUID) -> Response:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT doc FROM orders WHERE id = %s", (order_id,))
            row = await cur.fetchone()
        if row is None:
            raise HTTPException(404)
        return Response(orjson.dumps(row[0]), media_type="application/json")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    return app
