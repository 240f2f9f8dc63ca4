/* HSG chat widget: one <script> tag on any page.
 *   <script>window.HSGChatSettings = { botUrl: "https://bot.example.org", title: "Questions about your HSG?",
 *                                      title_es: "¿Preguntas sobre su HSG?" };</script>
 *   <script src="https://bot.example.org:8080/widget.js" defer></script>
 * Talks to Rasa's REST channel. Every bot and patient text is shown with textContent,
 * never as HTML. The session id and the conversation are kept in this browser's
 * localStorage so a reload or a new tab continues the chat; "Start over" clears them.
 *
 * Languages: every word of the interface is in content/widget_text.yml (English and
 * Spanish); web/server.py puts them in below (HSG_WIDGET_TEXT) as it serves this file.
 * The page's settings may replace a few: title, subtitle, privacy (English) and
 * title_es, subtitle_es, privacy_es (Spanish). The chat starts in the language the
 * patient chose before (the English/Español switch, kept in localStorage), else the
 * page's `language` setting, else the browser's (navigator.languages: "es..." is
 * Spanish). Switching tells the bot (/choose_language{"language":"es"}, no bubble shown),
 * so its answers follow; the bot keeps the language with the conversation.
 */
(function () {
  "use strict";
  var TEXT = /*HSG_WIDGET_TEXT*/null;  // {en: {...}, es: {...}}, filled in by web/server.py
  if (!TEXT || !TEXT.en) {
    if (window.console) console.error("HSG chat: widget.js has no words; serve it with web/server.py");
    return;
  }
  var settings = Object.assign({
    botUrl: "http://localhost:5005",
    primaryColor: "#0b5cab",
    assetsUrl: "",
    greeting: "/greet",
    language: ""          // the page's own language ("es" on a Spanish page); the patient's choice wins
  }, window.HSGChatSettings || {});
  var SESSION_KEY = "hsg-chat-session", HISTORY_KEY = "hsg-chat-history", LANGUAGE_KEY = "hsg-chat-language";
  var LANGUAGES = Object.keys(TEXT);
  var history = load(HISTORY_KEY, []);
  var pending = null, queue = Promise.resolve(), busy = 0, generation = 0;
  var wordsCache = {};
  var language = firstLanguage(), words = wordsFor(language);

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

  // ---- languages
  function supported(code) {  // "es-MX" -> "es"; null when the chat does not speak it
    var base = String(code || "").toLowerCase().split("-")[0];
    return LANGUAGES.indexOf(base) >= 0 ? base : null;
  }
  function chosen() { try { return supported(localStorage.getItem(LANGUAGE_KEY)); } catch (e) { return null; } }
  function firstLanguage() {
    var preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    var candidates = [chosen(), settings.language].concat(Array.prototype.slice.call(preferred));
    for (var i = 0; i < candidates.length; i++) { if (supported(candidates[i])) return supported(candidates[i]); }
    return "en";
  }
  function wordsFor(lang) {  // content/widget_text.yml's words, with the page's own title etc.
    if (wordsCache[lang]) return wordsCache[lang];
    var own = Object.assign({}, TEXT.en, TEXT[lang]);
    Object.keys(own).forEach(function (key) {
      var override = settings[key + "_" + lang];
      if (typeof override !== "string" && lang === "en") override = settings[key];
      if (typeof override === "string" && typeof own[key] === "string") own[key] = override;
    });
    return (wordsCache[lang] = own);
  }
  function format(pattern, values) {
    return String(pattern).replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }
  function greeting() {  // the first message: /greet, or /greet{"language":"es"} in Spanish
    var own = settings["greeting_" + language];
    if (typeof own === "string") return own;
    if (language === "en" || !/^\/\w+$/.test(settings.greeting)) return settings.greeting;
    return settings.greeting + JSON.stringify({ language: language });
  }

  // ---- layout (words are put in by applyWords)
  var root = el("div", { "class": "hsg-chat", id: "hsg-chat" });
  root.style.setProperty("--hsg-primary", settings.primaryColor);
  var launcher = el("button", { "class": "hsg-launcher", type: "button", "aria-expanded": "false",
                                 "aria-controls": "hsg-panel" });
  var panel = el("section", { "class": "hsg-panel", id: "hsg-panel", role: "dialog", hidden: "" });
  var header = el("header", { "class": "hsg-header" });
  var title = el("h2", { "class": "hsg-title" });
  var close = el("button", { "class": "hsg-close", type: "button" }, "×");
  var tools = el("div", { "class": "hsg-tools" });
  var switcher = el("div", { "class": "hsg-lang", role: "group" });
  var languageButtons = LANGUAGES.map(function (code) {
    // each language named in itself ("Español"), with its own lang so it is read out right
    var button = el("button", { type: "button", lang: code, "data-language": code }, wordsFor(code).language_name);
    button.addEventListener("click", function () { choose(code); });
    switcher.appendChild(button);
    return button;
  });
  var restart = el("button", { "class": "hsg-restart", type: "button" });
  tools.appendChild(switcher); tools.appendChild(restart);
  [title, close, tools].forEach(function (n) { header.appendChild(n); });
  var disclaimer = el("p", { "class": "hsg-disclaimer" });
  var log = el("div", { "class": "hsg-log", role: "log", "aria-live": "polite", tabindex: "0" });
  var typing = el("p", { "class": "hsg-typing", hidden: "", "aria-hidden": "true" });
  var error = el("div", { "class": "hsg-error", role: "alert", hidden: "" });
  var errorText = el("span", {});
  var errorKind = "error";  // "error": the bot cannot be reached; "busy": it answered 429 (too many messages)
  var retry = el("button", { "class": "hsg-retry", type: "button" });
  error.appendChild(errorText); error.appendChild(retry);
  var form = el("form", { "class": "hsg-form" });
  var label = el("label", { "for": "hsg-input", "class": "hsg-visually-hidden" });
  var input = el("input", { id: "hsg-input", "class": "hsg-input", type: "text", autocomplete: "off",
                            maxlength: "1000" });
  var send = el("button", { "class": "hsg-send", type: "submit" });
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  var privacy = el("p", { "class": "hsg-privacy" });
  [header, disclaimer, log, typing, error, form, privacy].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel); root.appendChild(launcher);

  function applyWords() {  // every interface word, in the chat's language, at once
    words = wordsFor(language);
    root.setAttribute("lang", language); panel.setAttribute("lang", language);
    launcher.textContent = words.title;
    panel.setAttribute("aria-label", words.title);
    title.textContent = words.title;
    close.setAttribute("aria-label", words.close);
    switcher.setAttribute("aria-label", words.language_group);
    languageButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-language") === language));
    });
    restart.textContent = words.start_over;
    disclaimer.textContent = words.subtitle;
    log.setAttribute("aria-label", words.conversation);
    typing.textContent = words.typing;
    errorText.textContent = words[errorKind];
    retry.textContent = words.try_again;
    label.textContent = words.input_label;
    input.setAttribute("placeholder", words.input_placeholder);
    send.textContent = words.send;
    privacy.textContent = words.privacy;
  }
  function setLanguage(code) {
    if (code === language) return;
    language = code;
    applyWords();
    // calendars already shown take the new month names too; messages keep their own language.
    // The log stays quiet meanwhile, so a screen reader does not read old calendars again.
    var boxes = log.querySelectorAll(".hsg-calendar");
    if (!boxes.length) return;
    log.setAttribute("aria-live", "off");
    Array.prototype.forEach.call(boxes, function (box) { box.parentNode.replaceChild(calendar(box.hsgData), box); });
    requestAnimationFrame(function () { requestAnimationFrame(function () { log.setAttribute("aria-live", "polite"); }); });
  }
  function choose(code) {  // the patient pressed English or Español
    if (code === language) return;
    try { localStorage.setItem(LANGUAGE_KEY, code); } catch (e) { /* blocked: this page only */ }
    setLanguage(code);
    // the bot answers in the language from now on and confirms it; no patient bubble
    if (!history.length && !busy) { pending = null; ask(greeting(), null); }  // no greeting yet: greet in it
    else ask("/choose_language" + JSON.stringify({ language: code }), null);
  }

  // ---- rendering (text only, never innerHTML)
  function bubble(entry) {
    var lang = supported(entry.lang) || "en";  // the language the message was written in
    var own = wordsFor(lang);
    var item = el("div", { "class": "hsg-msg hsg-" + entry.from, lang: lang });
    var who = el("span", { "class": "hsg-visually-hidden" },
                 (entry.from === "bot" ? own.assistant_says : own.you_said) + " ");
    item.appendChild(who);
    if (entry.text) {
      entry.text.split("\n").forEach(function (line, i) {
        if (i) item.appendChild(el("br"));
        item.appendChild(document.createTextNode(line));
      });
    }
    if (entry.custom && entry.custom.diagram) item.appendChild(diagram(entry.custom, lang));
    if (entry.custom && entry.custom.calendar) item.appendChild(calendar(entry.custom.calendar));
    log.appendChild(item);
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", { "class": "hsg-buttons", role: "group", "aria-label": own.suggested_replies, lang: lang });
      entry.buttons.forEach(function (b) {
        var button = el("button", { type: "button", "class": "hsg-quick" }, b.title);
        button.addEventListener("click", function () { ask(b.payload, b.title); });
        group.appendChild(button);
      });
      log.appendChild(group);
    }
    log.scrollTop = log.scrollHeight;
  }
  function diagram(custom, lang) {  // the picture's labels in the language of its message (and its alt text)
    var figure = el("figure", { "class": "hsg-diagram" });
    figure.appendChild(el("img", { src: settings.assetsUrl + "/hsg-diagram.svg?lang=" + encodeURIComponent(lang),
                                   alt: custom.alt || "", width: "280", height: "210" }));
    return figure;
  }
  function parseDay(iso) { var p = String(iso || "").split("-"); return p.length === 3 ? new Date(+p[0], +p[1] - 1, +p[2]) : null; }
  function calendar(data) {  // in the chat's language
    var cal = words.calendar;
    var start = parseDay(data.window_start), end = parseDay(data.window_end), today = parseDay(data.today);
    var bleedFrom = parseDay(data.cycle_start), bleedTo = parseDay(data.bleeding_end) || bleedFrom;
    var box = el("div", { "class": "hsg-calendar", lang: language });
    box.hsgData = data;
    if (!start || !end) return box;
    var months = [new Date(start.getFullYear(), start.getMonth(), 1)];
    if (end.getMonth() !== start.getMonth()) months.push(new Date(end.getFullYear(), end.getMonth(), 1));
    months.forEach(function (first) {
      var table = el("table", { "class": "hsg-month" });
      table.appendChild(el("caption", {}, format(cal.month_caption,
                                                  { month: cal.months[first.getMonth()], year: first.getFullYear() })));
      var head = el("tr");
      cal.weekdays_short.forEach(function (d, i) {
        var th = el("th", { scope: "col" });
        th.appendChild(el("span", { "aria-hidden": "true" }, d));
        th.appendChild(el("span", { "class": "hsg-visually-hidden" }, cal.weekdays[i]));
        head.appendChild(th);
      });
      table.appendChild(head);
      var row = el("tr"), cells = first.getDay();
      for (var i = 0; i < cells; i++) row.appendChild(el("td"));
      var days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
      for (var d = 1; d <= days; d++) {
        var day = new Date(first.getFullYear(), first.getMonth(), d), notes = [];
        var cell = el("td", {}, String(d));
        if (day >= start && day <= end) { cell.classList.add("hsg-window"); notes.push(cal.window_day); }
        if (bleedFrom && day >= bleedFrom && day <= bleedTo) { cell.classList.add("hsg-bleeding"); notes.push(cal.bleeding_day); }
        if (today && +day === +today) { cell.classList.add("hsg-today"); notes.push(cal.today_day); }
        if (notes.length) cell.setAttribute("aria-label", d + ", " + notes.join(", "));
        row.appendChild(cell);
        if (day.getDay() === 6) { table.appendChild(row); row = el("tr"); }
      }
      if (row.children.length) table.appendChild(row);
      box.appendChild(table);
    });
    var legend = el("p", { "class": "hsg-legend" });
    [["hsg-window", cal.window], ["hsg-bleeding", cal.bleeding], ["hsg-today", cal.today]].forEach(function (k) {
      var item = el("span", { "class": "hsg-legend-item" });
      item.appendChild(el("span", { "class": "hsg-key " + k[0] }));
      item.appendChild(document.createTextNode(" " + k[1]));
      legend.appendChild(item); legend.appendChild(document.createTextNode(" "));
    });
    box.appendChild(legend);
    var link = el("a", { "class": "hsg-ics", download: cal.file_name,
                         href: settings.assetsUrl + "/calendar.ics?start=" + encodeURIComponent(data.window_start) +
                               "&end=" + encodeURIComponent(data.window_end) + "&lang=" + encodeURIComponent(language) },
                  cal.add);
    box.appendChild(link);
    return box;
  }
  function add(entry) {
    log.setAttribute("aria-live", "polite");  // new messages are always announced
    history.push(entry); save(); bubble(entry);
  }

  // ---- talking to the bot: one message at a time, in order
  function ask(message, shown) {
    if (!message || !String(message).trim()) return;
    if (shown !== null) add({ from: "user", text: shown || message, lang: language });
    var lang = language, round = generation;
    busy++;
    queue = queue.then(function () { return post(message, lang, round); });
  }
  function done() { busy--; if (!busy) { typing.hidden = true; send.disabled = false; } }
  function post(message, lang, round) {
    if (round !== generation) { done(); return null; }  // "Start over" was pressed meanwhile
    pending = message;
    error.hidden = true; typing.hidden = false; send.disabled = true;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 30000) : null;
    return fetch(settings.botUrl + "/webhooks/rest/webhook", {
      method: "POST", headers: { "Content-Type": "application/json" },
      signal: controller ? controller.signal : undefined,
      body: JSON.stringify({ sender: sessionId(), message: message })
    }).then(function (response) {
      if (response.status === 429) throw { busy: true };  // the bot's rate limit: wait, or call
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (messages) {
      if (round !== generation) return;
      pending = null;
      // The reply is in the language asked for, unless the bot says otherwise (a custom
      // {"language": "es"}: the patient wrote in the other language); then the interface
      // follows too, unless the patient chose a language with the switch.
      var replyLang = lang;
      messages.forEach(function (m) { if (m.custom && supported(m.custom.language)) replyLang = supported(m.custom.language); });
      var merged = [];
      messages.forEach(function (m) {
        var custom = m.custom ? Object.assign({}, m.custom) : null;
        if (custom) { delete custom.language; if (!Object.keys(custom).length) custom = null; }
        if (!custom && !m.text && !(m.buttons && m.buttons.length)) return;
        if (custom && merged.length && !merged[merged.length - 1].custom) merged[merged.length - 1].custom = custom;
        else merged.push({ from: "bot", text: m.text || "", buttons: m.buttons || [], custom: custom, lang: replyLang });
      });
      if (replyLang !== language && !chosen()) setLanguage(replyLang);
      merged.forEach(add);
    }).catch(function (problem) {
      if (round === generation) {
        errorKind = problem && problem.busy ? "busy" : "error";
        errorText.textContent = words[errorKind];
        error.hidden = false; retry.focus();
      }
    }).then(function () { clearTimeout(timer); done(); });
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
    generation++; pending = null; error.hidden = true;
    history = []; save(); localStorage.removeItem(SESSION_KEY); log.textContent = "";
    ask(greeting(), null); input.focus();
  });
  function open(show) {
    panel.hidden = !show; launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      if (!history.length && !busy) ask(greeting(), null);
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
    applyWords();
    document.body.appendChild(root);
    history.forEach(bubble);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  window.HSGChat = { open: function () { open(true); } };
})();
