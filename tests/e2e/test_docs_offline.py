"""``/docs`` (Swagger UI) and ``/redoc`` work on a machine with no network: every script, style
sheet, icon and document their pages reference is a path on the app itself, and the app serves
each one; none names another host (no CDN, no web fonts, no validator badge)."""

from __future__ import annotations

import re

import httpx
import pytest

#: Attribute values and the URLs the inline start-up script passes to Swagger UI / ReDoc.
REFERENCE = re.compile(
    r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']"""
)
KINDS = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}


def _references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize(("page", "expects"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
def test_the_page_and_everything_it_loads_come_from_the_app(server_url, page, expects):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        response = http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert expects in html
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I), html
        references = _references(html)
        assert any(r.endswith(".js") for r in references), references
        assert "/openapi.json" in references
        for reference in references:
            assert reference.startswith("/"), reference
            fetched = http.get(reference)
            assert fetched.status_code == 200, reference
            kind = next(v for k, v in KINDS.items() if reference.endswith(k))
            assert kind in fetched.headers["content-type"], (reference, fetched.headers)
            assert len(fetched.content) > 1000, reference


def test_swagger_ui_reads_the_openapi_31_document_it_is_given(server_url):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        assert http.get("/openapi.json").json()["openapi"].startswith("3.1")
        bundle = http.get("/docs/assets/swagger-ui-bundle.js").text
    # Swagger UI reads OpenAPI 3.1 from version 5 on; the bundle names its own version.
    versions = {int(v) for v in re.findall(r'"([0-9]+)\.[0-9]+\.[0-9]+"', bundle[-400_000:])}
    assert max(versions) >= 5


@pytest.mark.parametrize(
    "path", ["/docs/assets/core.py", "/docs/assets/..%2F..%2Fcore.py", "/docs/assets/favicon.ico"]
)
def test_nothing_but_the_listed_assets_is_served(server_url, path):
    # 404 for a name off the list; a path that leaves the folder matches no route at all,
    # which the gateway answers 401 (no rule covers it) before anything is read
    response = httpx.get(server_url + path, timeout=30)
    assert response.status_code in (401, 404)
    assert "import" not in response.text
