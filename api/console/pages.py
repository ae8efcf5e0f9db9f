"""The console's routes: its page shells (Jinja2 templates rendered with no data) and its
static files, on a router the app includes outside ``/api/v1``. The shells are public (the
authorization table lists ``/console*`` as public); every figure a page shows comes from a
call to the JSON API that carries the signed-in token. A strict Content-Security-Policy keeps
every script, style and request on this origin."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.order.status import STATUSES

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
PREFIX = "/console"
#: Served files by name (relative to ``static/``) and their media types; nothing else is served.
MEDIA = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

#: The pages: path under /console, template, title, the roles the page is for (what the API
#: lets them read; the page says so to anyone else), and the navigation label.
PAGES = {
    "": ("signin.html", "Sign in", "", None),
    "/orders": ("orders.html", "Orders", "admin merchant analyst auditor", "Orders"),
    "/audit": ("audit.html", "Audit", "admin auditor", "Audit"),
    "/stock": ("stock.html", "Stock", "admin merchant analyst auditor", "Stock"),
    "/analytics": ("analytics.html", "Analytics", "admin analyst", "Analytics"),
    "/operations": ("operations.html", "Operations", "admin auditor analyst", "Operations"),
}

#: The analytics page's reports: id, title, the endpoint (under /api/v1) and its definition
#: (docs/analytics.md defines each metric once; these sentences say what the report counts).
REPORTS = (
    (
        "revenue",
        "Revenue per day",
        "/analytics/sales",
        "Net revenue per placement day and currency, summed over channels: the merchandise sold "
        "and kept (quantity x unit price) after order discounts, cancelled and returned units. "
        "No tax, no shipping; never summed across currencies.",
    ),
    (
        "status",
        "Orders by status",
        "/analytics/orders-by-status",
        "How many of the orders placed in the period are in each status now (every status).",
    ),
    (
        "cancellations",
        "Cancellation reasons",
        "/analytics/cancellations/reasons",
        "Per reason and currency, in the period: orders cancelled whole (under the order's "
        "cancellation reason), units cancelled (whole orders and lines) and their merchandise "
        "value.",
    ),
    (
        "top-products",
        "Top products",
        "/analytics/top-products",
        "The ten best products per currency by net revenue (units ordered less cancelled and "
        "returned, times unit price, after discounts).",
    ),
    (
        "fulfillment",
        "Fulfillment and on-time rates",
        "/analytics/fulfillment",
        "Fulfillment rate: of the orders placed and not cancelled whole, the share whose every "
        "open unit has shipped. On-time rate: of those delivered, the share delivered on or "
        "before the promised day (the scheduled delivery, else the placement day plus 5 days).",
    ),
)


def static_files() -> dict[str, str]:
    """Every file under ``static/`` the console serves, by its path there."""
    files = {}
    for path in STATIC.rglob("*"):
        media = MEDIA.get(path.suffix) or ("text/plain" if path.name.endswith("LICENSE") else None)
        if path.is_file() and media:
            files[path.relative_to(STATIC).as_posix()] = media
    return files


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _shell(env: Environment, template: str, **context) -> HTMLResponse:
    nav = [(PREFIX + path, label) for path, (_, _, _, label) in PAGES.items() if label]
    html = env.get_template(template).render(
        prefix=PREFIX, nav=nav, statuses=STATUSES, reports=REPORTS, **context
    )
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def _page(env: Environment, template: str, **context):
    """A route function (no parameters) answering one shell."""

    def page() -> HTMLResponse:
        return _shell(env, template, **context)

    return page


def install(app: FastAPI) -> None:
    """Add the console's pages and files to ``app`` (outside ``/api/v1``, not in the OpenAPI
    document)."""
    router = APIRouter(include_in_schema=False)
    env = _environment()
    files = static_files()

    for path, (template, title, roles, _) in PAGES.items():
        page = _page(env, template, title=title, roles=roles, current=PREFIX + path)
        router.add_api_route(PREFIX + path, page, methods=["GET"], response_class=HTMLResponse)

    @router.get(PREFIX + "/orders/{order_id}", response_class=HTMLResponse)
    def order_page(order_id: UUID) -> HTMLResponse:
        return _shell(
            env,
            "order.html",
            title="Order",
            roles="admin merchant analyst auditor",
            current=PREFIX + "/orders",
            order_id=str(order_id),
        )

    @router.get(PREFIX + "/static/{name:path}")
    def static(name: str) -> Response:
        media_type = files.get(name)
        if media_type is None:
            return Response(status_code=404)
        return FileResponse(
            STATIC / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    app.include_router(router)
