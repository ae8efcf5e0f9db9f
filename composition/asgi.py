"""The ASGI entry point for uvicorn (``uvicorn composition.asgi:app --factory``): the API over the
composition root, built from the program's capabilities (``composition.bootstrap.CAPABILITIES``;
``app_with`` adds more, for a test).

``ECOM_LOG_LEVEL`` (set by ``ecom serve --log-level``) also sets the per-request access log
(``ecom.access``): ``warning`` keeps errors and warnings and drops the line per request."""

import logging
import os
from functools import partial

from fastapi import FastAPI

from api.app import create_app
from composition.bootstrap import CAPABILITIES, build
from composition.capabilities import Capability, combine


def app_with(*added: Capability) -> FastAPI:
    """The app of the program's capabilities and the ``added`` ones: their events, handlers,
    views and process managers in the container, their routers, rules and owned resources in
    the app."""
    capabilities = (*CAPABILITIES, *added)
    parts = combine(capabilities)
    return create_app(
        partial(build, capabilities=capabilities),
        routers=parts.routers,
        rules=parts.rules,
        owned=parts.owned,
    )


def app():
    level = os.environ.get("ECOM_LOG_LEVEL")
    if level:
        logging.getLogger("ecom.access").setLevel(level.upper())
    return app_with()
