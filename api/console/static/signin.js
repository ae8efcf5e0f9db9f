/* The sign-in page: keep a pasted token in this tab, then go where the user was going. */
(function () {
  "use strict";
  const { el } = window.ecom;
  window.ecom.page(function (ctx) {
    const form = document.getElementById("signin-form");
    const error = document.getElementById("signin-error");
    const done = document.getElementById("signed-in");
    const next = new URLSearchParams(location.search).get("next");
    if (ctx.role) {
      done.hidden = false;
      if (ctx.role === "customer") {
        done.replaceChildren(el("p", { class: "notice", text: "This console is for staff: a customer's token shows nothing here." }));
      }
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      try {
        const c = window.ecom.signIn(document.getElementById("token").value.trim());
        if (c.role === "customer") {
          sessionStorage.clear();
          error.textContent = "This console is for staff: a customer's token shows nothing here.";
          return;
        }
        const safe = next && next.startsWith(window.ecom.prefix + "/") ? next : window.ecom.prefix + "/orders";
        location.assign(safe);
      } catch (e) {
        error.textContent = e.message;
      }
    });
  });
})();
