// The Mini App: every call carries Telegram's launch data; the texts come from the server.
"use strict";
(function () {
  const launch = new URLSearchParams((window.launchHash || location.hash).slice(1));
  const tg = window.Telegram && window.Telegram.WebApp;
  const initData = launch.get("tgWebAppData") || (tg && tg.initData) || "";
  const query = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);
  let L = {};
  let state = { tab: "day", date: null, withId: null, days: [] };

  function theme() {
    let params = {};
    try { params = JSON.parse(launch.get("tgWebAppThemeParams") || "{}"); } catch (e) { params = {}; }
    if (tg && tg.themeParams) params = Object.assign(params, tg.themeParams);
    Object.entries(params).forEach(([key, value]) => {
      document.documentElement.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
    });
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function say(id, text) {
    const node = $(id);
    node.textContent = text || "";
    node.hidden = !text;
  }
  async function api(path, options) {
    const response = await fetch(path, Object.assign({}, options, {
      headers: Object.assign({ Authorization: "tma " + initData, "Content-Type": "application/json" },
        (options || {}).headers),
    }));
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    if (!response.ok) {
      const error = new Error(body.error || L.failed || String(response.status));
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function tabs(session) {
    const nav = $("tabs");
    nav.replaceChildren();
    const names = { day: L.my_day, book: L.book, catalogue: L.catalogue };
    session.tabs.filter((t) => names[t]).forEach((tab) => {
      const button = el("button", null, names[tab]);
      button.id = "tab-" + tab;
      button.setAttribute("role", "tab");
      button.setAttribute("aria-pressed", String(tab === state.tab));
      button.onclick = () => { state.tab = tab; show(); };
      nav.append(button);
    });
  }
  function days() {
    const box = $("days");
    box.replaceChildren();
    state.days.forEach((day) => {
      const button = el("button", null, day.label);
      button.dataset.date = day.date;
      button.setAttribute("aria-pressed", String(day.date === state.date));
      button.onclick = () => { state.date = day.date; show(); };
      box.append(button);
    });
  }
  async function showDay() {
    const data = await api("/app/api/day?date=" + encodeURIComponent(state.date));
    const list = $("grid");
    list.replaceChildren();
    if (!data.rows.length) list.append(el("li", null, L.no_slots));
    data.rows.forEach((row) => {
      const item = el("li");
      item.dataset.key = row.key;
      item.dataset.state = row.state;
      const time = el("bdi", "time", row.time);
      time.dir = "ltr";
      item.append(time, el("bdi", "what", row.text));
      list.append(item);
    });
  }
  let listed = false;
  async function listCounterparts() {
    // Ranking matches costs what /matches costs: asked once, when the Book tab first opens.
    if (listed) return;
    listed = true;
    const data = await api("/app/api/counterparts");
    const select = $("counterpart");
    const kept = [...select.options].filter((o) => o.value);
    select.replaceChildren(el("option", null, data.counterparts.length || kept.length ? "—" : L.none), ...kept);
    data.counterparts.forEach((p) => {
      if (kept.some((o) => o.value === String(p.id))) return;
      const option = el("option", null, (p.flag ? p.flag + " " : "") + p.name + (p.org ? " · " + p.org : ""));
      option.value = String(p.id);
      select.append(option);
    });
    if (state.withId) select.value = String(state.withId);
  }
  async function showPair() {
    const body = $("pair").tBodies[0];
    body.replaceChildren();
    $("languages").textContent = "";
    if (!state.withId) return;
    const data = await api("/app/api/pair?with=" + state.withId + "&date=" + encodeURIComponent(state.date));
    $("col-them").replaceChildren(el("bdi", null, data.them.name));
    const option = [...$("counterpart").options].find((o) => o.value === String(state.withId));
    if (option && option.textContent === "…") option.textContent = data.them.name;
    $("languages").textContent = data.languages;
    if (!data.rows.length) {
      const row = body.insertRow();
      row.insertCell().textContent = L.no_slots;
    }
    data.rows.forEach((slot) => {
      const row = body.insertRow();
      row.dataset.key = slot.key;
      const time = el("bdi", "time", slot.time);
      time.dir = "ltr"; // 09:30–09:50 reads left to right in every language
      row.insertCell().append(time);
      const mine = row.insertCell();
      mine.className = slot.mine ? "yes" : "no";
      mine.textContent = slot.mine ? L.free : L.busy;
      const theirs = row.insertCell();
      theirs.className = slot.theirs ? "yes" : "no";
      theirs.textContent = slot.theirs ? L.free : L.busy;
      const action = row.insertCell();
      if (slot.bookable) {
        const button = el("button", "primary request", L.request);
        button.onclick = () => book(slot.key, button);
        action.append(button);
      }
    });
  }
  async function book(key, button) {
    button.disabled = true;
    button.textContent = L.sending;
    say("error", "");
    try {
      const result = await api("/app/api/request", {
        method: "POST", body: JSON.stringify({ with: state.withId, slot: key }),
      });
      say("message", result.message);
      if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred("success");
    } catch (error) {
      say("error", error.message);
    }
    await showPair().catch((error) => say("error", error.message));
  }
  // The catalogue: the search box and the filters are sent as they are; the server answers
  // with the results and, per filter, the values that still find something.
  const FILTERS = ["field", "hall", "kind", "trl_min", "trl_max"];
  let found = { offset: 0 };
  function fillSelect(select, options, chosen) {
    const any = el("option", null, L.any);
    any.value = "";
    select.replaceChildren(any, ...options.map((o) => {
      const option = el("option", null, o.count === undefined ? o.label : o.label + " (" + o.count + ")");
      option.value = String(o.value);
      return option;
    }));
    select.value = chosen === null || chosen === undefined ? "" : String(chosen);
  }
  function exhibitItem(x) {
    const item = el("li", "exhibit");
    item.dataset.id = String(x.id);
    const text = el("div", "what");
    const title = el("bdi", "title", x.title);
    title.dir = "auto";
    text.append(title);
    if (x.language) text.append(" ", el("span", "lang", "(" + x.language + ")"));
    const details = [x.org, x.booth, x.trl ? "TRL " + x.trl : ""].filter(Boolean);
    const note = el("div", "note");
    details.forEach((d, i) => { if (i) note.append(" · "); note.append(el("bdi", null, d)); });
    text.append(note);
    const button = el("button", x.saved ? "save" : "save primary", x.saved ? L.saved : L.save);
    button.disabled = x.saved;
    button.onclick = () => saveExhibit(x.id, button);
    item.append(text, button);
    return item;
  }
  async function showCatalogue(more) {
    const params = new URLSearchParams();
    const q = $("q").value.trim();
    if (q) params.set("q", q);
    FILTERS.forEach((name) => {
      const value = $("filters").querySelector('[data-name="' + name + '"]').value;
      if (value) params.set(name, value);
    });
    found.offset = more ? found.next : 0;
    if (found.offset) params.set("offset", String(found.offset));
    const data = await api("/app/api/exhibits?" + params.toString());
    const f = data.filters;
    fillSelect($("f-field"), f.fields, (f.fields.find((o) => o.selected) || {}).value);
    fillSelect($("f-hall"), f.halls, (f.halls.find((o) => o.selected) || {}).value);
    fillSelect($("f-kind"), f.kinds, (f.kinds.find((o) => o.selected) || {}).value);
    const levels = f.trls.map((n) => ({ value: n, label: String(n) }));
    fillSelect($("f-trl-min"), levels, f.trl_min);
    fillSelect($("f-trl-max"), levels, f.trl_max);
    const list = $("exhibits");
    if (!more) list.replaceChildren();
    if (!data.results.length && !more) list.append(el("li", "empty", L.no_exhibits));
    data.results.forEach((x) => list.append(exhibitItem(x)));
    found.next = data.next;
    $("more-exhibits").hidden = data.next === null;
  }
  async function saveExhibit(id, button) {
    button.disabled = true;
    say("error", "");
    try {
      const result = await api("/app/api/exhibits/save", { method: "POST", body: JSON.stringify({ exhibit: id }) });
      button.textContent = L.saved;
      button.className = "save";
      say("message", result.message);
      if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred("success");
    } catch (error) {
      button.disabled = false;
      say("error", error.message);
    }
  }
  function catalogueTexts() {
    $("q").placeholder = L.search;
    $("q").setAttribute("aria-label", L.search);
    $("find-button").textContent = L.find;
    $("l-field").textContent = L.field;
    $("l-hall").textContent = L.hall;
    $("l-kind").textContent = L.kind;
    $("l-trl-min").textContent = L.trl_from;
    $("l-trl-max").textContent = L.trl_to;
    $("more-exhibits").textContent = L.more;
    const run = (more) => { say("error", ""); showCatalogue(more).catch((error) => say("error", error.message)).finally(() => { document.body.dataset.ready = "true"; }); };
    $("find").onsubmit = (event) => { event.preventDefault(); document.body.dataset.ready = "false"; run(false); };
    FILTERS.forEach((name) => {
      $("filters").querySelector('[data-name="' + name + '"]').onchange = () => {
        // A TRL range the wrong way round: the other end gives way.
        const low = $("f-trl-min"), high = $("f-trl-max");
        if (low.value && high.value && Number(low.value) > Number(high.value)) {
          (name === "trl_min" ? high : low).value = "";
        }
        document.body.dataset.ready = "false";
        run(false);
      };
    });
    $("more-exhibits").onclick = () => { document.body.dataset.ready = "false"; run(true); };
  }
  async function show() {
    say("error", "");
    document.querySelectorAll("#tabs button").forEach((b) => b.setAttribute("aria-pressed", String(b.id === "tab-" + state.tab)));
    days();
    $("days").hidden = state.tab === "catalogue";
    $("view-day").hidden = state.tab !== "day";
    $("view-book").hidden = state.tab !== "book";
    $("view-catalogue").hidden = state.tab !== "catalogue";
    try {
      if (state.tab === "day") await showDay();
      else if (state.tab === "catalogue") await showCatalogue(false);
      else {
        await listCounterparts();
        await showPair();
      }
    } catch (error) {
      say("error", error.message);
    }
    document.body.dataset.ready = "true";
  }
  async function start() {
    theme();
    if (tg) { tg.ready(); tg.expand(); }
    let session;
    try {
      session = await api("/app/api/session");
    } catch (error) {
      say("error", error.message);
      document.body.dataset.ready = "refused";
      return;
    }
    L = session.labels;
    document.documentElement.lang = session.lang;
    document.documentElement.dir = session.dir;
    state.days = session.days;
    state.date = session.today;
    $("choose-label").textContent = L.choose;
    $("col-me").textContent = L.me;
    catalogueTexts();
    const select = $("counterpart");
    select.onchange = () => { state.withId = select.value ? Number(select.value) : null; show(); };
    if (query.get("tab") === "catalogue" && session.tabs.includes("catalogue")) state.tab = "catalogue";
    const wanted = Number(query.get("with"));
    if (wanted) {
      state.withId = wanted;
      state.tab = "book";
      const option = el("option", null, "…");
      option.value = String(wanted);
      select.replaceChildren(option);
      select.value = String(wanted);
    }
    tabs(session);
    await show();
  }
  start();
})();
