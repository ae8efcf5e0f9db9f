"""``/console``: its page shells answer without a token and hold no data (a Content-Security-
Policy keeps scripts, styles and requests on this origin); every file they load is served from
the app; nothing else under ``/console/static`` is; the data stays behind the token."""

from __future__ import annotations

import re
from uuid import UUID

import httpx
import pytest

from api.console.pages import PAGES

SHELLS = ["/console" + path for path in PAGES] + [f"/console/orders/{UUID(int=1)}"]
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#]+)["']""")


@pytest.mark.parametrize("path", SHELLS)
def test_each_shell_is_public_and_loads_only_files_of_the_app(server_url, path):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        page = http.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert not re.search(r"https?://", page.text)
        for reference in REFERENCE.findall(page.text):
            assert reference.startswith("/"), reference
            if reference.startswith("/console/static/"):
                assert http.get(reference).status_code == 200, reference


def test_the_chart_library_is_served_with_its_licence(server_url):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        script = http.get("/console/static/vendor/uPlot.iife.min.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert "MIT" in http.get("/console/static/vendor/uPlot.LICENSE").text


@pytest.mark.parametrize(
    "path", ["/console/static/../pages.py", "/console/static/nothing.js", "/console/static/"]
)
def test_nothing_but_the_console_files_is_served(server_url, path):
    # a path that leaves the folder matches no route: the gateway asks for a token (401)
    assert httpx.get(server_url + path, timeout=30).status_code in (401, 404)


def test_a_malformed_order_id_is_refused_and_the_data_needs_a_token(server_url):
    assert httpx.get(server_url + "/console/orders/not-an-id", timeout=30).status_code == 422
    assert httpx.get(server_url + "/api/v1/orders", timeout=30).status_code == 401
