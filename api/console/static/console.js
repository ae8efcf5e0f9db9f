/* The console's core, shared by every page: the token (kept in this tab's sessionStorage
   only), the role it carries, calls to the JSON API with it, and small DOM helpers.
   A page script calls ecom.page(run): run(ctx) starts once a signed-in role that may see
   the page is known; otherwise the page says why and shows nothing. */
(function () {
  "use strict";
  const KEY = "ecom.console.token";
  const API = "/api/v1";
  const prefix = document.body.dataset.prefix || "/console";

  function token() { return sessionStorage.getItem(KEY); }

  function claimsOf(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(Array.from(atob(part), (c) =>
        "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
      return JSON.parse(json);
    } catch (e) { return null; }
  }

  function claims() {
    const t = token();
    const c = t ? claimsOf(t) : null;
    if (!c || (c.exp && c.exp * 1000 < Date.now())) return null;
    return c;
  }

  function signIn(jwt) {
    const c = claimsOf(jwt);
    if (!c || !c.role) throw new Error("This is not a token the console can read (no role claim).");
    if (c.exp && c.exp * 1000 < Date.now()) throw new Error("This token has expired.");
    sessionStorage.setItem(KEY, jwt);
    return c;
  }

  function signOut() { sessionStorage.removeItem(KEY); location.assign(prefix); }

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function request(path, options) {
    const opts = options || {};
    const headers = Object.assign({ Accept: opts.accept || "application/json" }, opts.headers || {});
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    const response = await fetch(API + path, { method: opts.method || "GET", headers: headers, body: opts.body });
    if (!response.ok) {
      let code = "http_" + response.status, message = response.statusText;
      try {
        const body = await response.json();
        if (body && body.error) { code = body.error.code; message = body.error.message; }
      } catch (e) { /* not JSON */ }
      throw new ApiError(response.status, code, message);
    }
    return response;
  }

  async function api(path, options) {
    const response = await request(path, options);
    return response.status === 204 ? null : response.json();
  }

  async function download(path, filename, accept) {
    const response = await request(path, { accept: accept || "*/*" });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename, hidden: "" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return blob.size;
  }

  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /* rows -> <tr> in tbody; each cell is text, a Node, or {text|node, class}. */
  function fillTable(tbody, rows, cells, emptyText) {
    reachable(tbody.closest(".table-wrap"));
    tbody.replaceChildren();
    if (!rows.length) {
      const width = tbody.closest("table").querySelectorAll("thead th").length || 1;
      tbody.append(el("tr", {}, el("td", { colspan: width, text: emptyText || "Nothing to show." })));
      return;
    }
    for (const row of rows) {
      const tr = el("tr");
      for (const cell of cells(row)) {
        if (cell && typeof cell === "object" && !(cell instanceof Node)) {
          tr.append(el("td", { class: cell.class }, cell.node || (cell.text == null ? "" : String(cell.text))));
        } else {
          tr.append(el("td", {}, cell == null ? "" : cell));
        }
      }
      tbody.append(tr);
    }
  }

  /* A wrapper that may scroll sideways can be focused (and so scrolled by keyboard). */
  function reachable(wrap) {
    if (!wrap || wrap.hasAttribute("tabindex")) return;
    const caption = wrap.querySelector("caption");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", caption ? caption.textContent : "table");
  }

  function facts(dl, pairs) {
    dl.replaceChildren();
    for (const [k, v, cls] of pairs) {
      dl.append(el("dt", { text: k }), el("dd", { class: cls }, v instanceof Node ? v : String(v == null ? "" : v)));
    }
  }

  function money(m) { return m ? m.amount + " " + m.currency : ""; }
  function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "Z") : ""; }
  function num(v) { return { text: v, class: "num" }; }

  function status(message, isError) {
    const node = document.getElementById("status");
    node.textContent = message || "";
    node.className = isError ? "status error" : "status";
  }

  function failed(err) {
    if (err instanceof ApiError && err.status === 401) { sessionStorage.removeItem(KEY); }
    const text = err instanceof ApiError ? err.message + " (" + err.status + " " + err.code + ")" : String(err.message || err);
    status(text, true);
    if (!(err instanceof ApiError)) console.error(err); // a fault of the page itself
  }

  function refuse(html) {
    const box = document.getElementById("refused");
    box.replaceChildren(...html);
    box.hidden = false;
    document.getElementById("content").hidden = true;
  }

  /* The page has drawn its data: tests wait for body[data-loaded], benchmarks read the
     "ecom:loaded" performance mark (milliseconds since the navigation started). */
  function loaded(name) {
    if (!performance.getEntriesByName("ecom:loaded").length) performance.mark("ecom:loaded");
    document.body.dataset.loaded = name;
  }

  function page(run) {
    const c = claims();
    const who = document.getElementById("who");
    const out = document.getElementById("sign-out");
    if (c) {
      who.textContent = "Signed in: " + c.role + " " + (c.sub || "");
      out.hidden = false;
      out.addEventListener("click", signOut);
    }
    const roles = (document.body.dataset.roles || "").split(/\s+/).filter(Boolean);
    if (roles.length) {
      if (!c) {
        refuse([el("p", {}, "Sign in to see this page: ", el("a", { href: prefix + "?next=" + encodeURIComponent(location.pathname + location.search) }, "sign in"), ".")]);
        return;
      }
      if (!roles.includes(c.role)) {
        refuse([el("p", { text: "The role '" + c.role + "' may not see this page (it is for: " + roles.join(", ") + ")." })]);
        return;
      }
      for (const node of document.querySelectorAll("[data-roles]")) {
        if (node === document.body) continue;
        if (!node.dataset.roles.split(/\s+/).includes(c.role)) node.remove();
      }
      document.getElementById("content").hidden = false;
    }
    Promise.resolve()
      .then(() => run({ role: c && c.role, claims: c }))
      .catch(failed);
  }

  window.ecom = { token, claims, claimsOf, signIn, signOut, api, request, download, el, fillTable, facts, money, when, num, status, failed, page, loaded, prefix, ApiError };
})();
