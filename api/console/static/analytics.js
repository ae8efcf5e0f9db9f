/* Analytics: each report of the page (its endpoint in data-endpoint), as a table, with a CSV
   download of the same report; revenue per day as a chart, one line per currency. */
(function () {
  "use strict";
  const { api, download, el, status, failed } = window.ecom;

  function period() {
    const q = new URLSearchParams();
    const from = document.getElementById("a-from").value, to = document.getElementById("a-to").value;
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    return q;
  }

  function table(section, rows) {
    const t = section.querySelector("table.report-table");
    const columns = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k) && typeof r[k] !== "object") columns.push(k);
    t.tHead.replaceChildren(el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c }))));
    window.ecom.fillTable(t.tBodies[0], rows, (r) => columns.map((c) => (typeof r[c] === "number" ? { text: r[c], class: "num" } : r[c])), "Nothing in this period.");
  }

  function revenueChart(items) {
    // Summed over channels: one point per day, one line per currency.
    const days = [...new Set(items.map((r) => r.day))].sort();
    const currencies = [...new Set(items.map((r) => r.currency))].sort();
    const sums = {};
    for (const r of items) {
      const k = r.day + "|" + r.currency;
      sums[k] = (sums[k] || 0) + Number(r.net_revenue);
    }
    const xs = days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const series = currencies.map((c) => ({ label: c, values: days.map((d) => (d + "|" + c in sums ? Math.round(sums[d + "|" + c] * 100) / 100 : null)) }));
    const box = document.getElementById("revenue-chart");
    window.ecomCharts.lineChart(box, xs, series, { series: [{}].concat(series.map((s, i) => ({ label: s.label, stroke: ["#0b4f9c", "#c2410c", "#166534", "#7e22ce"][i % 4], width: 2, points: { show: true, size: 7 } }))) });
    document.getElementById("revenue-caption").textContent =
      "Net revenue on " + days.length + " days, per currency (" + currencies.join(", ") + "); the table below lists it per channel too.";
  }

  async function report(section) {
    const body = await api(section.dataset.endpoint + "?" + period());
    if (section.dataset.report === "fulfillment") {
      const f = body.fulfillment, o = body.on_time_delivery;
      table(section, [
        { rate: "fulfillment", value: f.rate == null ? "n/a" : (f.rate * 100).toFixed(1) + " %", part: f.fulfilled, whole: f.orders },
        { rate: "on-time delivery", value: o.rate == null ? "n/a" : (o.rate * 100).toFixed(1) + " %", part: o.on_time, whole: o.delivered },
      ]);
      return;
    }
    if (section.dataset.report === "revenue") {
      revenueChart(body.items);
      table(section, body.items.map((r) => ({ day: r.day, channel: r.channel, currency: r.currency, orders: r.orders, net_revenue: r.net_revenue, gross_revenue: r.gross_revenue, net_sales: r.net_sales, captured: r.captured, refunded: r.refunded })));
      return;
    }
    table(section, body.items);
  }

  window.ecom.page(function () {
    const sections = [...document.querySelectorAll("section.report")];
    for (const section of sections) {
      section.querySelector("a.csv").addEventListener("click", (event) => {
        event.preventDefault();
        const q = period();
        q.set("format", "csv");
        download(section.dataset.endpoint + "?" + q, section.dataset.report + ".csv", "text/csv").catch(failed);
      });
    }
    async function all() {
      status("Loading the reports…");
      await Promise.all(sections.map(report));
      status("");
      window.ecom.loaded("analytics");
    }
    document.getElementById("period").addEventListener("submit", (e) => { e.preventDefault(); all().catch(failed); });
    return all();
  });
})();
