"""The ASGI entry point for uvicorn (``uvicorn ecom.asgi:app --factory``)."""

from api.app import create_app


def app():
    return create_app()
