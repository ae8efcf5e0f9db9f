"""HTTP routes of the catalog area."""

from fastapi import APIRouter

router = APIRouter()
