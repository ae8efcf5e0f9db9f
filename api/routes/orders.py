"""HTTP routes of the order area."""

from fastapi import APIRouter

router = APIRouter()
