"""HTTP routes of the inventory area."""

from fastapi import APIRouter

router = APIRouter()
