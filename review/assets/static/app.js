// tierwatch review page: keyboard-driven decisions over the JSON API.
// No inline script anywhere (the CSP forbids it); all text is set with
// textContent, never innerHTML.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("status");
  const help = document.getElementById("help");
  const count = document.getElementById("count");
  let cards = Array.from(document.querySelectorAll("article.card"));
  let cur = 0;
  let busy = false;

  function say(msg, isError) {
    status.textContent = msg;
    status.className = isError ? "error" : "";
  }

  function focus(i) {
    if (cards.length === 0) { cur = 0; return; }
    cur = Math.max(0, Math.min(i, cards.length - 1));
    cards.forEach((c, j) => c.classList.toggle("current", j === cur));
    cards[cur].focus({ preventScroll: true });
    cards[cur].scrollIntoView({ block: "nearest" });
  }

  async function post(path, body) {
    const resp = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      throw new Error((data && data.error) || ("HTTP " + resp.status));
    }
    return data;
  }

  async function decide(card, action, extra) {
    if (busy || !card) { return; }
    busy = true;
    const id = card.dataset.id;
    const body = Object.assign({ version: Number(card.dataset.version) }, extra || {});
    try {
      await post("/api/candidates/" + encodeURIComponent(id) + "/" + action, body);
      const i = cards.indexOf(card);
      card.remove();
      cards.splice(i, 1);
      count.textContent = String(cards.length);
      say(action + " " + id + " done", false);
      focus(i);
    } catch (e) {
      say(action + " " + id + ": " + e.message, true);
    } finally {
      busy = false;
    }
  }

  async function undo() {
    if (busy) { return; }
    busy = true;
    try {
      const res = await post("/api/undo", {});
      say("undid " + res.decision.reason, false);
      window.location.reload();
    } catch (e) {
      say("undo: " + e.message, true);
      busy = false;
    }
  }

  function openBest(card) {
    const url = card && card.dataset.best;
    if (url && /^https?:\/\//i.test(url)) {
      window.open(url, "_blank", "noopener,noreferrer");
    }
  }

  function showDup(card) {
    const form = card.querySelector("form.dup");
    form.hidden = false;
    form.querySelector("input").focus();
  }

  function act(card, action) {
    switch (action) {
      case "accept": return decide(card, "accept");
      case "reject": return decide(card, "reject");
      case "snooze": return decide(card, "snooze", { until: "24h" });
      case "dup": return showDup(card);
      case "open": return openBest(card);
    }
  }

  cards.forEach((card) => {
    card.querySelectorAll("button[data-action]").forEach((b) => {
      b.addEventListener("click", () => { focus(cards.indexOf(card)); act(card, b.dataset.action); });
    });
    const form = card.querySelector("form.dup");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const target = form.querySelector("input").value.trim();
      if (target) { decide(card, "dup", { target: target }); }
    });
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { form.hidden = true; card.focus(); }
    });
  });

  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) { return; }
    const card = cards[cur];
    switch (ev.key) {
      case "j": focus(cur + 1); break;
      case "k": focus(cur - 1); break;
      case "a": act(card, "accept"); break;
      case "x": act(card, "reject"); break;
      case "s": act(card, "snooze"); break;
      case "d": if (card) { ev.preventDefault(); showDup(card); } break;
      case "o": openBest(card); break;
      case "u": undo(); break;
      case "?": help.hidden = !help.hidden; break;
      default: return;
    }
  });

  document.body.dataset.ready = "1";
  focus(0);
})();
