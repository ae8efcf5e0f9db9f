"""The web console for operators, auditors and analysts, at ``/console`` (outside ``/api/v1``).

Its pages are HTML shells: Jinja2 templates (``templates/``) that hold no data, served to
anyone, plus small scripts (``static/``) that sign in with a bearer token kept in the browser
tab (``sessionStorage``) and call the JSON API with it, so every figure on a page passes the
gateway's authentication and role table like any other client. One chart library is vendored
(uPlot, ``static/vendor/``, with its licence); nothing loads from another host.

- ``pages``: the routes (``install(app)``), the shells and the static files;
- ``templates/``: one shell per page on ``base.html``;
- ``static/``: ``console.js`` (token, role, API calls, tables), one script per page, the
  style sheet and the vendored chart library.

docs/console.md describes the design and each page."""
