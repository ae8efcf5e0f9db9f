"""Analytics over HTTP (placeholder until the analytics views land)."""

from fastapi import APIRouter

from api.schemas import ERRORS

router = APIRouter(tags=["analytics"], responses=ERRORS)
