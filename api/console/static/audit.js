/* Audit: verify the hash chain (a progress indicator while the server walks it), the signed
   tree head and public key (the signature checked here when the browser has Ed25519), an
   inclusion proof checked in the browser (RFC 9162), and an export to download. */
(function () {
  "use strict";
  const { api, download, el, facts, status, failed, ApiError } = window.ecom;
  const enc = new TextEncoder();

  function hex(bytes) { return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join(""); }
  function unhex(text) { return new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16))); }
  function unb64(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }
  async function sha256(...parts) {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  }

  /* RFC 9162, 2.1.3.2: the root an inclusion proof leads to. */
  async function rootFrom(leafHash, index, size, path) {
    let fn = index, sn = size - 1, r = leafHash;
    for (const p of path.map(unhex)) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(new Uint8Array([1]), p, r);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(new Uint8Array([1]), r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? hex(r) : null;
  }

  async function signatureOk(head, publicKey) {
    try {
      const key = await crypto.subtle.importKey("raw", unb64(publicKey), { name: "Ed25519" }, false, ["verify"]);
      const signed = '{"root_hash":"' + head.root_hash + '","timestamp":' + head.timestamp + ',"tree_size":' + head.tree_size + "}";
      return await crypto.subtle.verify({ name: "Ed25519" }, key, unb64(head.signature), enc.encode(signed));
    } catch (e) { return null; } // this browser has no Ed25519
  }

  function verdict(ok, yes, no) { return el("span", { class: ok ? "ok" : "bad", text: ok ? yes : no }); }

  window.ecom.page(function () {
    const button = document.getElementById("verify");
    const progress = document.getElementById("verify-progress");
    const elapsed = document.getElementById("verify-elapsed");
    button.addEventListener("click", async () => {
      button.disabled = true;
      progress.hidden = false;
      progress.removeAttribute("value"); // indeterminate: the server walks the chain in one call
      const started = performance.now();
      const timer = setInterval(() => { elapsed.textContent = ((performance.now() - started) / 1000).toFixed(0) + " s"; }, 500);
      status("Verifying the chain…");
      try {
        const r = await api("/audit/verify");
        progress.max = 1; progress.value = 1;
        facts(document.getElementById("verify-result"), [
          ["Result", verdict(r.ok, "The chain is intact", "The chain is NOT intact")],
          ["Events checked", r.events_checked], ["Head", r.head], ["Head hash", r.head_hash],
          ["First bad position", r.first_bad_position == null ? "none" : r.first_bad_position],
          ["Problem", r.problem || "none"], ["Not yet chained", r.unchained],
        ]);
        status("Verified " + r.events_checked + " events in " + ((performance.now() - started) / 1000).toFixed(1) + " s.");
        document.body.dataset.verified = r.ok ? "ok" : "bad";
      } catch (err) { failed(err); } finally {
        clearInterval(timer);
        progress.hidden = true;
        button.disabled = false;
      }
    });

    async function head() {
      const [key, digest] = await Promise.all([api("/audit/public-key"), api("/audit/digest")]);
      const ok = await signatureOk(digest, key.public_key);
      facts(document.getElementById("head"), [
        ["Public key (" + key.algorithm + ", base64)", key.public_key],
        ["Tree size", digest.tree_size], ["Root hash", digest.root_hash],
        ["Signed at", new Date(digest.timestamp).toISOString()], ["Signature", digest.signature],
        ["Signature check", ok === null ? "this browser cannot check Ed25519; use ecom-verify" : verdict(ok, "valid for this key", "INVALID for this key")],
      ]);
      return digest;
    }
    document.getElementById("refresh-head").addEventListener("click", () => head().catch(failed));

    document.getElementById("proof-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = document.getElementById("proof-result");
      const position = Number(document.getElementById("proof-position").value);
      try {
        const digest = await api("/audit/digest");
        const proof = await api("/audit/proof/" + position + "?tree_size=" + digest.tree_size);
        const leaf = unb64(proof.leaf);
        const leafHash = await sha256(new Uint8Array([0]), leaf);
        const root = await rootFrom(leafHash, position - 1, proof.tree_size, proof.audit_path);
        const included = hex(leafHash) === proof.leaf_hash && root === digest.root_hash;
        const record = JSON.parse(new TextDecoder().decode(leaf));
        facts(out, [
          ["Result", verdict(included, "Included in the signed tree", "NOT proven")],
          ["Event", (record.type || "gap") + " (stream " + record.stream_id + ", version " + record.version + ")"],
          ["Leaf hash", proof.leaf_hash], ["Path length", proof.audit_path.length],
          ["Root computed here", root || "(the path does not lead to a root)"], ["Signed root", digest.root_hash],
        ]);
        out.dataset.included = included ? "yes" : "no";
      } catch (err) {
        facts(out, [["Result", err instanceof ApiError ? err.message : String(err)]]);
      }
    });

    document.getElementById("export-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const from = document.getElementById("export-from").value || "1";
      const to = document.getElementById("export-to").value;
      const q = "?from_position=" + from + (to ? "&to_position=" + to : "");
      const out = document.getElementById("export-result");
      out.textContent = "Preparing the export…";
      try {
        const size = await download("/audit/export" + q, "ecom-export.jsonl", "application/x-ndjson");
        out.textContent = "Downloaded " + size + " bytes.";
      } catch (err) { out.textContent = err.message; }
    });

    return head().then(() => { window.ecom.loaded("audit"); });
  });
})();
