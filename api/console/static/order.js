/* One order: its lines, payments, shipments, returns and notes, and the timeline replay: the
   order's events (its own and those of its payments, shipments and returns) in order, and the
   order as it was after any of them (GET /orders/{id}/state?version=N), changed fields marked. */
(function () {
  "use strict";
  const { api, el, fillTable, facts, money, when, num, status, failed, ApiError } = window.ecom;

  function show(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") {
      if ("amount" in value && "currency" in value) return money(value);
      return JSON.stringify(value);
    }
    return String(value);
  }

  /* A generic table of objects (their scalar fields) into container. */
  function objectTable(container, items, caption) {
    container.replaceChildren();
    if (!items || !items.length) { container.append(el("p", { text: "None." })); return; }
    const columns = [];
    for (const item of items) for (const k of Object.keys(item)) if (!columns.includes(k)) columns.push(k);
    const table = el("table", {}, el("caption", { class: "sr", text: caption }),
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c })))), el("tbody"));
    fillTable(table.querySelector("tbody"), items, (row) => columns.map((c) => show(row[c])));
    container.append(el("div", { class: "table-wrap" }, table));
  }

  /* The state flattened to "path" -> text, for the as-was table and its comparison. */
  function flatten(value, path, out) {
    if (value && typeof value === "object" && !Array.isArray(value) && !("amount" in value && "currency" in value)) {
      for (const [k, v] of Object.entries(value)) flatten(v, path ? path + "." + k : k, out);
    } else if (Array.isArray(value) && value.length && typeof value[0] === "object") {
      value.forEach((v, i) => flatten(v, path + "[" + i + "]", out));
    } else {
      out[path] = show(Array.isArray(value) ? value.join(", ") : value);
    }
    return out;
  }

  function denied(err) { return err instanceof ApiError && (err.status === 403 || err.status === 404); }

  window.ecom.page(async function () {
    const id = document.getElementById("order").dataset.orderId;
    status("Loading the order…");
    const order = await api("/orders/" + id);
    document.getElementById("order-number").textContent = "#" + order.number;
    facts(document.getElementById("summary"), [
      ["Id", order.id], ["Status", order.status], ["Customer", order.customer_id],
      ["Payment", order.payment_status], ["Fulfillment", order.fulfillment_status],
      ["Subtotal", money(order.subtotal)], ["Tax", money(order.tax)], ["Shipping", money(order.shipping)],
      ["Discount", money(order.discount)], ["Total", money(order.total)], ["Tags", (order.tags || []).join(", ")],
      ["Version", order.version], ["Created", when(order.created_at)], ["Updated", when(order.updated_at)],
    ]);
    fillTable(document.querySelector("#lines tbody"), order.lines, (l) => [
      l.sku, num(l.quantity), num(money(l.unit_price)), num(money(l.total)), num(l.reserved), num(l.shipped), num(l.delivered), num(l.returned),
    ]);
    objectTable(document.getElementById("shipments"), order.shipments, "Shipments");
    const notes = document.getElementById("notes");
    notes.replaceChildren(...(order.notes || []).map((n) => el("li", {}, el("strong", { text: n.author + ", " + when(n.created_at) + (n.visible_to_customer ? " (customer sees it)" : "") + ": " }), n.text)));
    if (!notes.children.length) notes.append(el("li", { text: "None." }));

    const payments = document.getElementById("payments");
    api("/orders/" + id + "/payments").then((ledger) => {
      payments.replaceChildren(el("p", { text: "Authorized " + ledger.authorized + ", captured " + ledger.captured + ", refunded " + ledger.refunded + " " + (ledger.currency || "") + " (" + ledger.payment_status + ")." }));
      const rows = [];
      for (const kind of ["authorizations", "captures", "voids", "refunds"]) for (const r of ledger[kind]) rows.push(Object.assign({ kind: kind }, r));
      const box = el("div");
      payments.append(box);
      objectTable(box, rows, "Payment entries");
    }).catch((err) => payments.replaceChildren(el("p", { text: denied(err) ? "Your role may not read payments." : err.message })));

    status("Loading the timeline…");
    let entries;
    try {
      entries = await timeline(id);
    } catch (err) {
      if (!denied(err)) throw err;
      document.getElementById("replay-section").replaceChildren(el("p", { class: "notice", text: "Your role may not read the order's timeline." }));
      document.getElementById("returns").replaceChildren(el("p", { text: "Returns are listed from the timeline, which your role may not read." }));
      status("");
      window.ecom.loaded("order");
      return;
    }
    const returnIds = [...new Set(entries.filter((e) => e.stream_type === "return").map((e) => e.stream_id))];
    Promise.all(returnIds.map((r) => api("/returns/" + r)))
      .then((rows) => objectTable(document.getElementById("returns"), rows, "Returns"))
      .catch((err) => document.getElementById("returns").replaceChildren(el("p", { text: err.message })));
    await replay(id, entries);
    status(entries.length + " events in the timeline.");
    window.ecom.loaded("order");
  });

  async function timeline(id) {
    const entries = [];
    let cursor = null;
    do {
      const page = await api("/orders/" + id + "/timeline?limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      entries.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return entries;
  }

  async function replay(id, entries) {
    const tbody = document.querySelector("#timeline tbody");
    const slider = document.getElementById("replay-slider");
    const at = document.getElementById("replay-at");
    const asWas = document.querySelector("#as-was tbody");
    const versionOut = document.getElementById("as-was-version");
    const cache = new Map();
    // After entry i, the order's own version is the last of its own events up to i.
    let v = 0;
    const versions = entries.map((e) => (v = e.stream_id === id ? e.version : v));
    fillTable(tbody, entries, (e) => [
      num(e.position), el("span", {}, el("strong", { text: e.type }), " ", e.description || ""),
      e.stream_type + " v" + e.version, e.actor, when(e.occurred_at), e.correlation_id, e.causation_id,
    ], "No events.");
    const rows = [...tbody.children];
    rows.forEach((tr, i) => {
      tr.tabIndex = 0;
      tr.addEventListener("click", () => go(i + 1));
      tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); go(i + 1); } });
    });
    slider.max = String(entries.length || 1);

    async function stateAt(version) {
      if (version < 1) return {};
      if (!cache.has(version)) {
        cache.set(version, api("/orders/" + id + "/state?version=" + version).then((s) => flatten(s.state, "", {})));
      }
      return cache.get(version);
    }

    let token = 0;
    async function go(step) {
      step = Math.max(1, Math.min(entries.length, step));
      const mine = ++token;
      slider.value = String(step);
      const entry = entries[step - 1];
      at.textContent = step + " of " + entries.length + ": " + entry.type;
      rows.forEach((tr, i) => (i === step - 1 ? tr.setAttribute("aria-current", "step") : tr.removeAttribute("aria-current")));
      const version = versions[step - 1];
      const [now, before] = await Promise.all([stateAt(version), stateAt(step > 1 ? versions[step - 2] : 0)]);
      if (mine !== token) return; // a later step won the race
      versionOut.textContent = String(version);
      const fields = Object.keys(now);
      fillTable(asWas, fields, (f) => [f, now[f]]);
      [...asWas.children].forEach((tr, i) => {
        const f = fields[i];
        if (step > 1 && before[f] !== now[f]) {
          tr.classList.add("changed");
          tr.firstChild.append(el("span", { class: "sr", text: " (changed)" }));
          tr.dataset.changed = "";
        }
      });
      document.body.dataset.replayStep = String(step);
    }

    slider.addEventListener("input", () => go(Number(slider.value)).catch(failed));
    document.getElementById("step-first").addEventListener("click", () => go(1).catch(failed));
    document.getElementById("step-back").addEventListener("click", () => go(Number(slider.value) - 1).catch(failed));
    document.getElementById("step-forward").addEventListener("click", () => go(Number(slider.value) + 1).catch(failed));
    document.getElementById("step-last").addEventListener("click", () => go(entries.length).catch(failed));
    if (entries.length) await go(entries.length);
  }
})();
