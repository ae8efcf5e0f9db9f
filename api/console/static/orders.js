/* Orders: a filtered, paged list (the opaque cursors of GET /orders, kept on a stack). */
(function () {
  "use strict";
  const { api, el, fillTable, money, when, status, failed, prefix } = window.ecom;

  window.ecom.page(function () {
    const form = document.getElementById("filters");
    const tbody = document.querySelector("#orders-table tbody");
    const next = document.getElementById("next-page");
    const first = document.getElementById("first-page");
    let cursor = null, nextCursor = null;

    // The filters live in the address too, so a filtered list can be bookmarked or shared.
    const given = new URLSearchParams(location.search);
    for (const field of form.elements) if (field.name && given.has(field.name)) field.value = given.get(field.name);

    function query() {
      const q = new URLSearchParams();
      for (const field of form.elements) {
        if (!field.name || !field.value) continue;
        let value = field.value.trim();
        if (field.type === "date") value = field.name === "created_to" ? value + "T23:59:59.999999Z" : value + "T00:00:00Z";
        q.set(field.name, value);
      }
      return q;
    }

    async function load() {
      const q = query();
      if (cursor) q.set("cursor", cursor);
      status("Loading orders…");
      const started = performance.now();
      const page = await api("/orders?" + q.toString());
      fillTable(tbody, page.items, (o) => [
        el("a", { href: prefix + "/orders/" + o.id }, "#" + o.number),
        o.status, o.customer_id, { text: money(o.total), class: "num" }, o.tags.join(", "), o.channel, when(o.created_at),
      ], "No order matches these filters.");
      nextCursor = page.next_cursor;
      next.disabled = !nextCursor;
      first.disabled = !cursor;
      status(page.items.length + " orders shown (" + Math.round(performance.now() - started) + " ms).");
      window.ecom.loaded("orders");
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      cursor = null;
      const shown = new URLSearchParams();
      for (const field of form.elements) if (field.name && field.value) shown.set(field.name, field.value);
      history.replaceState(null, "", "?" + shown.toString());
      load().catch(failed);
    });
    next.addEventListener("click", () => { cursor = nextCursor; load().catch(failed); });
    first.addEventListener("click", () => { cursor = null; load().catch(failed); });
    return load();
  });
})();
