/* HSG chat widget: one <script> tag on any page.
 *   <script>window.HSGChatSettings = { botUrl: "https://bot.example.org", title: "Questions about your HSG?" };</script>
 *   <script src="https://bot.example.org:8080/widget.js" defer></script>
 * Talks to Rasa's REST channel. Every bot and patient text is shown with textContent,
 * never as HTML. The session id and the conversation are kept in this browser's
 * localStorage so a reload or a new tab continues the chat; "Start over" clears them.
 */
(function () {
  "use strict";
  var settings = Object.assign({
    botUrl: "http://localhost:5005",
    title: "HSG questions",
    subtitle: "Automated assistant: general information, not medical advice.",
    privacy: "This chat is kept in this browser so you can come back to it. Start over clears it.",
    primaryColor: "#0b5cab",
    assetsUrl: "",
    greeting: "/greet"
  }, window.HSGChatSettings || {});
  var SESSION_KEY = "hsg-chat-session", HISTORY_KEY = "hsg-chat-history";
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"];
  var DAYS = ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"];
  var history = load(HISTORY_KEY, []);
  var pending = null;

  function load(key, fallback) {
    try { var v = JSON.parse(localStorage.getItem(key)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  var MAX_HISTORY = 200;  // messages kept in this browser (older ones are dropped)
  function save() { if (history.length > MAX_HISTORY) history = history.slice(-MAX_HISTORY); try { localStorage.setItem(HISTORY_KEY, JSON.stringify(history)); } catch (e) { /* full or blocked */ } }
  function sessionId() {
    var id = localStorage.getItem(SESSION_KEY);
    if (!id) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      localStorage.setItem(SESSION_KEY, id);
    }
    return id;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- layout
  var root = el("div", { "class": "hsg-chat", id: "hsg-chat" });
  root.style.setProperty("--hsg-primary", settings.primaryColor);
  var launcher = el("button", { "class": "hsg-launcher", type: "button", "aria-expanded": "false",
                                 "aria-controls": "hsg-panel" }, settings.title);
  var panel = el("section", { "class": "hsg-panel", id: "hsg-panel", role: "dialog", "aria-label": settings.title,
                              hidden: "" });
  var header = el("header", { "class": "hsg-header" });
  header.appendChild(el("h2", { "class": "hsg-title" }, settings.title));
  var restart = el("button", { "class": "hsg-restart", type: "button" }, "Start over");
  var close = el("button", { "class": "hsg-close", type: "button", "aria-label": "Close chat" }, "×");
  header.appendChild(restart); header.appendChild(close);
  var disclaimer = el("p", { "class": "hsg-disclaimer" }, settings.subtitle);
  var log = el("div", { "class": "hsg-log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
                        tabindex: "0" });
  var typing = el("p", { "class": "hsg-typing", hidden: "", "aria-hidden": "true" }, "The assistant is typing…");
  var error = el("div", { "class": "hsg-error", role: "alert", hidden: "" });
  var errorText = el("span", {}, "Sorry, the assistant can't be reached right now.");
  var retry = el("button", { "class": "hsg-retry", type: "button" }, "Try again");
  error.appendChild(errorText); error.appendChild(retry);
  var form = el("form", { "class": "hsg-form" });
  var label = el("label", { "for": "hsg-input", "class": "hsg-visually-hidden" }, "Type your question");
  var input = el("input", { id: "hsg-input", "class": "hsg-input", type: "text", autocomplete: "off",
                            maxlength: "1000", placeholder: "Type your question" });
  var send = el("button", { "class": "hsg-send", type: "submit" }, "Send");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  var privacy = el("p", { "class": "hsg-privacy" }, settings.privacy);
  [header, disclaimer, log, typing, error, form, privacy].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel); root.appendChild(launcher);

  // ---- rendering (text only, never innerHTML)
  function bubble(entry) {
    var item = el("div", { "class": "hsg-msg hsg-" + entry.from });
    var who = el("span", { "class": "hsg-visually-hidden" }, entry.from === "bot" ? "Assistant says: " : "You said: ");
    item.appendChild(who);
    if (entry.text) {
      entry.text.split("\n").forEach(function (line, i) {
        if (i) item.appendChild(el("br"));
        item.appendChild(document.createTextNode(line));
      });
    }
    if (entry.custom && entry.custom.diagram) item.appendChild(diagram(entry.custom));
    if (entry.custom && entry.custom.calendar) item.appendChild(calendar(entry.custom.calendar));
    log.appendChild(item);
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", { "class": "hsg-buttons", role: "group", "aria-label": "Suggested replies" });
      entry.buttons.forEach(function (b) {
        var button = el("button", { type: "button", "class": "hsg-quick" }, b.title);
        button.addEventListener("click", function () { ask(b.payload, b.title); });
        group.appendChild(button);
      });
      log.appendChild(group);
    }
    log.scrollTop = log.scrollHeight;
  }
  function diagram(custom) {
    var figure = el("figure", { "class": "hsg-diagram" });
    figure.appendChild(el("img", { src: settings.assetsUrl + "/hsg-diagram.svg", alt: custom.alt || "",
                                   width: "280", height: "210" }));
    return figure;
  }
  function parseDay(iso) { var p = String(iso || "").split("-"); return p.length === 3 ? new Date(+p[0], +p[1] - 1, +p[2]) : null; }
  function calendar(data) {
    var start = parseDay(data.window_start), end = parseDay(data.window_end), today = parseDay(data.today);
    var bleedFrom = parseDay(data.cycle_start), bleedTo = parseDay(data.bleeding_end) || bleedFrom;
    var box = el("div", { "class": "hsg-calendar" });
    if (!start || !end) return box;
    var months = [new Date(start.getFullYear(), start.getMonth(), 1)];
    if (end.getMonth() !== start.getMonth()) months.push(new Date(end.getFullYear(), end.getMonth(), 1));
    months.forEach(function (first) {
      var table = el("table", { "class": "hsg-month" });
      table.appendChild(el("caption", {}, MONTHS[first.getMonth()] + " " + first.getFullYear()));
      var head = el("tr");
      DAYS.forEach(function (d) { head.appendChild(el("th", { scope: "col" }, d)); });
      table.appendChild(head);
      var row = el("tr"), cells = first.getDay();
      for (var i = 0; i < cells; i++) row.appendChild(el("td"));
      var days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
      for (var d = 1; d <= days; d++) {
        var day = new Date(first.getFullYear(), first.getMonth(), d), notes = [];
        var cell = el("td", {}, String(d));
        if (day >= start && day <= end) { cell.classList.add("hsg-window"); notes.push("exam window"); }
        if (bleedFrom && day >= bleedFrom && day <= bleedTo) { cell.classList.add("hsg-bleeding"); notes.push("bleeding"); }
        if (today && +day === +today) { cell.classList.add("hsg-today"); notes.push("today"); }
        if (notes.length) cell.setAttribute("aria-label", d + ", " + notes.join(", "));
        row.appendChild(cell);
        if (day.getDay() === 6) { table.appendChild(row); row = el("tr"); }
      }
      if (row.children.length) table.appendChild(row);
      box.appendChild(table);
    });
    var legend = el("p", { "class": "hsg-legend" });
    [["hsg-window", "Exam window"], ["hsg-bleeding", "Bleeding"], ["hsg-today", "Today"]].forEach(function (k) {
      var key = el("span", { "class": "hsg-key " + k[0] }); legend.appendChild(key);
      legend.appendChild(document.createTextNode(" " + k[1] + "  "));
    });
    box.appendChild(legend);
    var link = el("a", { "class": "hsg-ics", download: "hsg-window.ics",
                         href: settings.assetsUrl + "/calendar.ics?start=" + encodeURIComponent(data.window_start) +
                               "&end=" + encodeURIComponent(data.window_end) }, "Add to calendar");
    box.appendChild(link);
    return box;
  }
  function add(entry) { history.push(entry); save(); bubble(entry); }

  // ---- talking to the bot
  function ask(message, shown) {
    if (!message || !String(message).trim()) return;
    if (shown !== null) add({ from: "user", text: shown || message });
    pending = message;
    error.hidden = true; typing.hidden = false; send.disabled = true;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 30000) : null;
    fetch(settings.botUrl + "/webhooks/rest/webhook", {
      method: "POST", headers: { "Content-Type": "application/json" },
      signal: controller ? controller.signal : undefined,
      body: JSON.stringify({ sender: sessionId(), message: message })
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (messages) {
      pending = null;
      var merged = [];
      messages.forEach(function (m) {
        if (m.custom && merged.length && !merged[merged.length - 1].custom) merged[merged.length - 1].custom = m.custom;
        else merged.push({ from: "bot", text: m.text || "", buttons: m.buttons || [], custom: m.custom || null });
      });
      merged.forEach(add);
    }).catch(function () {
      error.hidden = false; retry.focus();
    }).then(function () { clearTimeout(timer); typing.hidden = true; send.disabled = false; });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    ask(text);
  });
  retry.addEventListener("click", function () { if (pending) ask(pending, null); });
  restart.addEventListener("click", function () {
    history = []; save(); localStorage.removeItem(SESSION_KEY); log.textContent = "";
    ask(settings.greeting, null); input.focus();
  });
  function open(show) {
    panel.hidden = !show; launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      if (!history.length) ask(settings.greeting, null);
      input.focus();
    } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { open(panel.hidden); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") open(false); });

  function start() {
    if (!document.querySelector("link[data-hsg-chat]")) {
      var css = el("link", { rel: "stylesheet", href: settings.assetsUrl + "/widget.css", "data-hsg-chat": "" });
      document.head.appendChild(css);
    }
    document.body.appendChild(root);
    history.forEach(bubble);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  window.HSGChat = { open: function () { open(true); } };
})();
