"""The ASGI entry point for uvicorn (``uvicorn composition.asgi:app --factory``): the API over the
composition root.

``ECOM_LOG_LEVEL`` (set by ``ecom serve --log-level``) also sets the per-request access log
(``ecom.access``): ``warning`` keeps errors and warnings and drops the line per request."""

import logging
import os

from api.app import create_app
from composition.bootstrap import build


def app():
    level = os.environ.get("ECOM_LOG_LEVEL")
    if level:
        logging.getLogger("ecom.access").setLevel(level.upper())
    return create_app(build)
