/* Stock: levels per SKU and location (all, or the low ones), and the movements of one SKU
   with its units on hand per location over time (the running sum of its movements). */
(function () {
  "use strict";
  const { api, el, fillTable, when, num, status, failed } = window.ecom;
  const MAX_MOVEMENT_PAGES = 20;

  window.ecom.page(function (ctx) {
    const tbody = document.querySelector("#levels tbody");
    const nextButton = document.getElementById("levels-next");
    const levelsAllowed = ["admin", "merchant", "analyst"].includes(ctx.role);
    let cursor = null, nextCursor = null;

    async function levels() {
      const q = new URLSearchParams({ limit: "100" });
      const location = document.getElementById("s-location").value.trim();
      if (location) q.set("location", location);
      if (document.getElementById("s-low").checked) q.set("low_stock", "true");
      if (cursor) q.set("cursor", cursor);
      const page = await api("/inventory?" + q);
      fillTable(tbody, page.items, (r) => [
        el("button", { type: "button", class: "secondary", onclick: () => movements(r.sku).catch(failed) }, r.sku),
        r.location, num(r.on_hand), num(r.reserved), num(r.available), num(r.reorder_point == null ? "" : r.reorder_point),
        r.low_stock ? el("strong", { text: "low" }) : "",
      ], "No stock level matches.");
      nextCursor = page.next_cursor;
      nextButton.disabled = !nextCursor;
    }

    async function movements(sku) {
      document.getElementById("m-sku").value = sku;
      status("Loading the movements of " + sku + "…");
      const rows = [];
      let after = null, pages = 0;
      do {
        const page = await api("/inventory/" + encodeURIComponent(sku) + "/movements?limit=500" + (after ? "&cursor=" + encodeURIComponent(after) : ""));
        rows.push(...page.items);
        after = page.next_cursor;
      } while (after && ++pages < MAX_MOVEMENT_PAGES);
      fillTable(document.querySelector("#movements tbody"), rows, (m) => [
        num(m.position), when(m.occurred_at), m.location, m.type, num(m.quantity > 0 ? "+" + m.quantity : m.quantity), m.reference || m.reason || "",
      ], "No movements.");
      const locations = [...new Set(rows.map((m) => m.location))];
      const running = Object.fromEntries(locations.map((l) => [l, 0]));
      const xs = [], values = locations.map(() => []);
      for (const m of rows) {
        running[m.location] += m.quantity;
        xs.push(Date.parse(m.occurred_at) / 1000);
        locations.forEach((l, i) => values[i].push(running[l]));
      }
      const chart = document.getElementById("movement-chart");
      chart.setAttribute("aria-label", "Units on hand of " + sku + " per location over time");
      window.ecomCharts.lineChart(chart, xs, locations.map((l, i) => ({ label: l, values: values[i] })));
      document.getElementById("movement-caption").textContent =
        "Units on hand of " + sku + " after each of its " + rows.length + " movements" + (after ? " (the first " + rows.length + ")" : "") + ", per location.";
      status("");
      window.ecom.loaded("movements");
    }

    document.getElementById("level-filters").addEventListener("submit", (e) => { e.preventDefault(); cursor = null; levels().catch(failed); });
    nextButton.addEventListener("click", () => { cursor = nextCursor; levels().catch(failed); });
    document.getElementById("movement-form").addEventListener("submit", (e) => { e.preventDefault(); movements(document.getElementById("m-sku").value.trim()).catch(failed); });
    const sku = new URLSearchParams(location.search).get("sku");
    const first = levelsAllowed ? levels() : Promise.resolve(document.getElementById("levels").replaceWith(el("p", { class: "notice", text: "Your role reads the movements of a SKU, not the levels." })));
    return first.then(() => (sku ? movements(sku) : null)).then(() => { if (!document.body.dataset.loaded) window.ecom.loaded("stock"); });
  });
})();
