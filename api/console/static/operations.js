/* Operations: the read models (position, lag, parked events; rebuild for admins), a live tail
   of the event feed, and the dead letters of the log's followers (the Kafka relay, the read
   models) with retry; the webhooks' dead letters through WEBHOOK_DEAD_LETTERS. */
(function () {
  "use strict";
  const { api, el, fillTable, when, num, status, failed, ApiError } = window.ecom;
  const TAIL_EVERY_MS = 2000;
  const TAIL_ROWS = 50;

  /* The hook for the webhooks' dead letters: where the webhooks and their deliveries are
     read, which delivery is dead-lettered, and how to retry one. A server without webhooks
     answers 404 for the list, and the section says so. */
  const WEBHOOK_DEAD_LETTERS = {
    webhooks: "/webhooks",
    deliveries: (id) => "/webhooks/" + encodeURIComponent(id) + "/deliveries",
    isDead: (d) => ["dead_lettered", "dead_letter", "dead"].includes(d.status),
    retry: (id) => "/webhook-deliveries/" + encodeURIComponent(id) + "/retry",
  };

  window.ecom.page(function (ctx) {
    const admin = ctx.role === "admin";

    async function projections() {
      const rows = await api("/projections");
      fillTable(document.querySelector("#projections tbody"), rows, (p) => {
        const cells = [p.name, num(p.position), num(p.lag), p.status, num(p.parked)];
        if (admin) {
          cells.push(el("button", {
            type: "button", class: "secondary", "data-rebuild": p.name, "aria-label": "Rebuild " + p.name,
            onclick: (event) => rebuild(p.name, event.currentTarget).catch(failed),
          }, "Rebuild"));
        }
        return cells;
      });
      window.ecom.loaded("operations");
    }

    async function rebuild(name, button) {
      if (!window.confirm("Rebuild the read model '" + name + "' from the first event?")) return;
      button.disabled = true;
      const r = await api("/projections/" + encodeURIComponent(name) + "/rebuild", { method: "POST" });
      status("Rebuilding " + r.name + ": " + r.status + ".");
      document.body.dataset.rebuilt = r.name;
      await projections();
    }

    let after = null, paused = false;
    async function tail() {
      const tbody = document.querySelector("#tail tbody");
      if (!tbody || paused) return;
      if (after === null) {
        const probe = await api("/events?limit=1");
        after = Math.max(0, probe.head - TAIL_ROWS);
      }
      const page = await api("/events?limit=" + TAIL_ROWS + "&after=" + after);
      if (page.items.length) after = page.items[page.items.length - 1].position;
      for (const e of page.items) {
        const tr = el("tr", {}, el("td", { class: "num", text: e.position }), el("td", { text: e.type }),
          el("td", { text: e.stream_type + " " + e.stream_id }), el("td", { class: "num", text: e.version }), el("td", { text: when(e.occurred_at) }));
        tbody.prepend(tr);
      }
      while (tbody.children.length > TAIL_ROWS) tbody.lastChild.remove();
      document.body.dataset.tail = String(after);
    }

    async function parked() {
      const tbody = document.querySelector("#parked tbody");
      if (!tbody) return;
      const list = await api("/projections/parked");
      fillTable(tbody, list.items, (p) => [
        p.follower, num(p.position), p.event_type + " (" + p.stream_id + " v" + p.stream_version + ")", p.error, num(p.attempts), when(p.parked_at),
        el("button", { type: "button", class: "secondary", onclick: () => retry("/projections/parked/" + p.id + "/retry").then(parked).catch(failed) }, "Retry"),
      ], "No parked events.");
    }

    async function webhookDeadLetters() {
      const box = document.getElementById("webhook-dead-letters");
      if (!box) return;
      const hook = WEBHOOK_DEAD_LETTERS;
      let hooks;
      try {
        hooks = await api(hook.webhooks);
      } catch (err) {
        if (err instanceof ApiError && [403, 404, 405].includes(err.status)) {
          box.replaceChildren(el("p", { text: "This server keeps no webhook deliveries." }));
          return;
        }
        throw err;
      }
      const dead = [];
      for (const h of Array.isArray(hooks) ? hooks : hooks.items || []) {
        const page = await api(hook.deliveries(h.id));
        for (const d of Array.isArray(page) ? page : page.items || []) {
          if (hook.isDead(d)) dead.push(Object.assign({ webhook: h.url || h.id }, d));
        }
      }
      if (!dead.length) { box.replaceChildren(el("p", { text: "No dead-lettered deliveries." })); return; }
      box.replaceChildren(el("ul", {}, ...dead.map((d) => el("li", {},
        d.webhook + ": " + (d.type || d.event_type || "") + " at position " + (d.position == null ? "?" : d.position) + ", " + (d.attempts || 0) + " attempts ",
        el("button", { type: "button", class: "secondary", onclick: () => retry(hook.retry(d.id)).then(webhookDeadLetters).catch(failed) }, "Retry")))));
    }

    async function retry(path) {
      const r = await api(path, { method: "POST" });
      status("Retried: " + JSON.stringify(r));
    }

    const toggle = document.getElementById("tail-toggle");
    if (toggle) {
      toggle.addEventListener("click", () => {
        paused = !paused;
        toggle.textContent = paused ? "Resume" : "Pause";
        toggle.setAttribute("aria-pressed", String(!paused));
      });
      setInterval(() => tail().catch(failed), TAIL_EVERY_MS);
    }
    document.getElementById("refresh-projections").addEventListener("click", () => projections().catch(failed));
    return Promise.all([projections(), tail(), parked(), webhookDeadLetters()]);
  });
})();
