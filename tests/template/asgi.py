"""The app with the template's capability added, for uvicorn
(``uvicorn tests.template.asgi:app --factory``): what the wishlist's end-to-end test serves."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    from composition.asgi import app_with
    from tests.template.wishlist import WISHLIST

    return app_with(WISHLIST)
