// The venue board: one Server-Sent Events stream; each table's card is patched in place.
"use strict";
(function () {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const L = cfg.labels;
  const main = document.getElementById("tables");
  const status = document.getElementById("status");
  const clock = document.getElementById("clock");
  let offset = 0; // the bot's clock minus this screen's clock
  const format = new Intl.DateTimeFormat(cfg.locale, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: cfg.zone,
  });
  function tick() { clock.textContent = format.format(new Date(Date.now() + offset)); }
  setInterval(tick, 1000);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function person(p) {
    const line = el("span", "person");
    if (p.flag) line.append(el("span", "flag", p.flag));
    line.append(el("bdi", "name", p.name));
    if (p.org) line.append(el("bdi", "org", p.org));
    return line;
  }
  function slot(kind, meeting) {
    const box = el("div", "slot " + kind);
    const head = el("div");
    head.append(el("span", "label", kind === "now" ? L.now : L.next));
    if (meeting) {
      const time = el("bdi", "time", meeting.time);
      time.dir = "ltr"; // 09:30–09:50 reads left to right on an Arabic board too
      head.append(time);
    }
    box.append(head);
    if (meeting) {
      meeting.people.forEach((p) => box.append(person(p)));
      (meeting.guests || []).forEach((g) => {
        const line = person(g);
        line.classList.add("guest");
        if (g.role) line.append(el("span", "role", g.role));
        box.append(line);
      });
    }
    if (!meeting) {
      box.append(el("span", kind === "now" ? "free" : "empty", kind === "now" ? L.free : "—"));
    }
    return box;
  }
  const cards = new Map();
  function render(data) {
    const shown = cfg.table ? data.tables.filter((t) => t.name === cfg.table) : data.tables;
    shown.forEach((table) => {
      const key = JSON.stringify(table);
      let card = cards.get(table.name);
      if (!card) {
        card = el("section", "table");
        card.dataset.table = table.name;
        main.append(card);
        cards.set(table.name, card);
      }
      if (card.dataset.key === key) return;
      card.dataset.key = key;
      const title = el("h3", null, L.table.replace("{table}", table.name));
      card.replaceChildren(title, slot("now", table.now), slot("next", table.next));
    });
    document.body.dataset.version = String(data.version);
  }
  const source = new EventSource(cfg.events);
  source.addEventListener("clock", (e) => { offset = JSON.parse(e.data).now - Date.now(); tick(); });
  source.addEventListener("board", (e) => render(JSON.parse(e.data)));
  source.onopen = () => { status.hidden = true; };
  source.onerror = () => { status.textContent = L.offline; status.hidden = false; };
})();
