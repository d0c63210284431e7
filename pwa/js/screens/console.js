// The duty manager's console: start an incident in two deliberate taps, watch the roll call
// fill in, resolve help, assign zones, change the reopening time, give the all-clear.
import { $, element } from "../dom.js";
import { say } from "../texts.js";
import { wireReadiness } from "./readiness.js";
import { wireUnreached } from "./unreached.js";

function clock(app, iso) {
  return new Date(iso).toLocaleTimeString(app.lang, { hour: "2-digit", minute: "2-digit" });
}

// "14:30" today (or tomorrow, if that has passed) as ISO 8601 UTC.
function etaFrom(input) {
  if (!input.value) return null;
  const [hours, minutes] = input.value.split(":").map(Number);
  const eta = new Date();
  eta.setHours(hours, minutes, 0, 0);
  if (eta < new Date()) eta.setDate(eta.getDate() + 1);
  return eta.toISOString();
}

export function renderConsoleStart(app) {
  const armed = app.armedKind;
  $("setup-link").hidden = app.server.me.role !== "admin";
  app.pendingReason = null;  // an all-clear asked about before this incident ended
  $("allclear-warning").hidden = $("allclear-confirm").hidden = true;
  for (const button of $("kinds").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.kind === armed));
  }
  $("start-confirm").hidden = $("start-cancel").hidden = !armed;
  if (armed) {
    const key = $("start-drill").checked ? "console.confirm_drill" : "console.confirm";
    $("start-confirm").textContent = say(app.texts, key, { kind: say(app.texts, `kind.${armed}`) });
  }
}

export function renderConsole(app) {
  const { state } = app.server;
  const incident = state.incident;
  const people = state.roll_call.staff;
  $("console-title").textContent = say(app.texts, `kind.${incident.kind}`);
  $("console-drill").hidden = !incident.drill;
  renderSince(app);
  $("console-eta-now").textContent = incident.eta
    ? say(app.texts, "console.eta_now", { time: clock(app, incident.eta) })
    : say(app.texts, "console.eta_none");
  $("roll-summary").textContent = say(app.texts, "console.roll_summary", {
    delivered: people.filter((p) => p.delivered_at).length,
    enrolled: people.filter((p) => p.enrolled || p.delivered_at).length,
    acknowledged: people.filter((p) => p.acknowledged_at).length,
    safe: people.filter((p) => p.safe_at).length,
  });
  $("roll-people").replaceChildren(...people.map((person) => {
    const status = person.safe_at ? "person.safe" : person.acknowledged_at ? "person.acknowledged"
      : person.delivered_at ? "person.has_alarm" : "person.nothing";
    return element("li", { className: `person-${status.split(".")[1]}` },
                   `${person.name}: ${say(app.texts, status)}`);
  }));
  // Re-rendering would snap shut an assignment list the manager has open: it waits for them.
  if (!$("console-zones").contains(document.activeElement)) {
    $("console-zones").replaceChildren(...state.zones.map((zone) => zoneItem(app, zone, people)));
  }
  const help = state.help_requests;
  $("console-help").replaceChildren(...(help.length ? help.map((request) => helpItem(app, request))
    : [element("li", {}, say(app.texts, "console.no_help"))]));
}

// The minutes since the start move on without any event, so this part has its own tick.
export function renderSince(app) {
  const incident = app.server.state?.incident;
  if (!incident) return;
  $("console-since").textContent = say(app.texts, "console.since", {
    time: clock(app, incident.started_at),
    minutes: Math.floor((Date.now() - Date.parse(incident.started_at)) / 60000),
  });
}

function zoneItem(app, zone, people) {
  const item = element("li", { className: `zone-${zone.sweep}` });
  item.dataset.zone = zone.id;
  const status = say(app.texts, `zone.status.${zone.sweep}`, { name: zone.by_name || "" });
  const when = zone.updated_at && zone.sweep !== "unchecked" ? `, ${clock(app, zone.updated_at)}` : "";
  item.append(element("strong", {}, zone.name), `: ${status}${when} `);
  if (zone.sweep === "unchecked" || zone.sweep === "blocked") {
    const choose = element("select", { ariaLabel: `${say(app.texts, "console.assign")}: ${zone.name}` },
      element("option", { value: "" }, say(app.texts, "console.assign")),
      ...people.map((p) => element("option", { value: String(p.staff_id) }, p.name)));
    choose.onchange = () => {
      if (!choose.value) return;
      app.server.act(say(app.texts, "console.assign"),
                     `/api/sites/${app.server.me.site}/zones/${zone.id}/assign`,
                     { staff_id: Number(choose.value) });
      choose.blur();
    };
    choose.onblur = () => app.render();
    item.append(choose);
  }
  return item;
}

function helpItem(app, request) {
  const raiser = app.server.state.roll_call.staff.find((p) => p.staff_id === request.raised_by);
  const asked = say(app.texts, "console.raised_by", { name: raiser?.name || "?",
                                                     time: clock(app, request.raised_at) });
  const done = element("button", { type: "button" }, say(app.texts, "console.resolve"));
  done.onclick = () => app.server.act(say(app.texts, "console.resolve"),
    `/api/sites/${app.server.me.site}/help-requests/${request.id}/resolve`);
  const where = `${request.location}${request.note ? ` (${request.note})` : ""}`;
  return element("li", {}, `${where}: ${asked} `, done);
}

function allClear(app, reason) {
  const { state } = app.server;
  const unchecked = state.zones.filter((z) => z.sweep !== "clear").length;
  const help = state.help_requests.length;
  if ((unchecked || help) && app.pendingReason !== reason) {
    app.pendingReason = reason;
    $("allclear-warning").hidden = $("allclear-confirm").hidden = false;
    $("allclear-warning").textContent = say(app.texts, "console.warn", { zones: unchecked, help });
    return;
  }
  app.pendingReason = null;
  $("allclear-warning").hidden = $("allclear-confirm").hidden = true;
  app.server.send_now(`/api/sites/${app.server.me.site}/incidents/current/all-clear`, { reason });
}

export async function renderHistory(app) {
  const response = await fetch(`/api/sites/${app.server.me.site}/incidents`).catch(() => null);
  if (!response?.ok) return;
  const { incidents } = await response.json();
  $("history").replaceChildren(...incidents.filter((i) => i.ended_at).map((incident) => {
    const summary = say(app.texts, "console.history_item", {
      started: new Date(incident.started_at).toLocaleString(app.lang),
      kind: say(app.texts, `kind.${incident.kind}`),
      drill: incident.drill ? say(app.texts, "console.history_drill") : "",
      reason: say(app.texts, `console.reason.${incident.end_reason}`),
    });
    const report = `/api/sites/${app.server.me.site}/incidents/${incident.id}/report.html`;
    return element("li", {}, `${summary} `,
                   element("a", { href: report }, say(app.texts, "console.report")));
  }));
}

// The chain's admin sees every site, open or closed, with its public status page.
export async function renderChainSites(app) {
  $("chain-sites").hidden = !app.server.me.chain_admin;
  if (!app.server.me.chain_admin) return;
  const response = await fetch("/api/sites").catch(() => null);
  if (!response?.ok) return;
  const { sites } = await response.json();
  $("sites-list").replaceChildren(...sites.map((site) => {
    const incident = site.incident;
    const state = incident
      ? say(app.texts, "console.site_closed", {
        kind: say(app.texts, `kind.${incident.kind}`),
        drill: incident.drill ? say(app.texts, "console.history_drill") : "",
        time: clock(app, incident.started_at) })
      : say(app.texts, "console.site_open");
    return element("li", { className: incident ? "zone-blocked" : "zone-clear" }, `${site.name}: ${state} `,
                   element("a", { href: `/status/${site.id}` }, say(app.texts, "console.status_page")));
  }));
}

export function wireConsole(app) {
  const site = () => `/api/sites/${app.server.me.site}`;
  $("kinds").append(...app.vocabulary.kinds.map((kind) => {
    const button = element("button", { type: "button" }, say(app.texts, `kind.${kind}`));
    button.dataset.kind = kind;
    button.onclick = () => {
      app.armedKind = kind;
      app.render();
      $("start-confirm").focus();  // brings the second tap into view, and says what it will do
    };
    return button;
  }));
  $("start-drill").onchange = () => app.render();
  $("start-cancel").onclick = () => { app.armedKind = null; app.render(); };
  $("start-confirm").onclick = () => {
    const body = { kind: app.armedKind, drill: $("start-drill").checked };
    const message = $("start-message").value.trim();
    const eta = etaFrom($("start-eta"));
    if (message) body.message = message;
    if (eta) body.eta = eta;
    app.armedKind = null;
    app.server.send_now(`${site()}/incidents`, body);
  };
  $("console-eta-save").onclick = () => {
    const eta = etaFrom($("console-eta"));
    app.server.act(say(app.texts, "console.eta_save"), `${site()}/incidents/current/update`,
                   eta ? { eta } : { clear_eta: true });
  };
  $("reasons").append(...app.vocabulary.end_reasons.map((reason) => {
    const button = element("button", { type: "button" }, say(app.texts, `console.reason.${reason}`));
    button.onclick = () => allClear(app, reason);
    return button;
  }));
  $("allclear-confirm").onclick = () => allClear(app, app.pendingReason);
  setInterval(() => renderSince(app), 15_000);
  renderChainSites(app);
  setInterval(() => renderChainSites(app), 30_000);
  wireReadiness(app);
  wireUnreached(app);
}
