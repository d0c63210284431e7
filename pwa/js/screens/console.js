// The duty manager's console while an incident runs: the roll call filling in (people with no
// phone apart from those who did not answer), help requests (announced as they come), zones
// to assign, the reopening time, the all-clear (end.js). Starting one: start.js.
import { $, element, vibrate } from "../dom.js";
import { PERSON_STATES, rollCall, zoneNamed } from "../model.js";
import { say, sayCount } from "../texts.js";
import { momentOf, timeOf } from "../when.js";
import { renderEnd, wireEnd } from "./end.js";
import { etaFrom, wireStart } from "./start.js";
import { wireReadiness } from "./readiness.js";
import { renderUnreached, wireUnreached } from "./unreached.js";

function clock(app, iso) {
  return timeOf(iso, app.texts, app.server.state?.site.timezone);
}

export function renderConsole(app) {
  const { state } = app.server;
  const incident = state.incident;
  $("console-title").textContent = say(app.texts, `kind.${incident.kind}`);
  // A drill and a real alarm never look alike: blue and striped with DRILL, or red and saying
  // it is not a drill.
  $("screen-console").classList.toggle("is-drill", Boolean(incident.drill));
  $("console-drill").hidden = !incident.drill;
  $("console-real").hidden = Boolean(incident.drill);
  renderSince(app);
  $("console-eta-card").hidden = Boolean(incident.drill);
  $("console-eta-now").textContent = incident.eta
    ? say(app.texts, "console.eta_now", { time: clock(app, incident.eta) })
    : say(app.texts, "console.eta_none");
  renderRollCall(app);
  // Re-rendering would snap shut an assignment list the manager has open: it waits for them.
  if (!$("console-zones").contains(document.activeElement)) {
    const { people } = rollCall(state);
    $("console-zones").replaceChildren(...state.zones.map((zone) => zoneItem(app, zone, people)));
  }
  const help = state.help_requests;
  $("console-help").replaceChildren(...(help.length ? help.map((request) => helpItem(app, request))
    : [element("li", {}, say(app.texts, "console.no_help"))]));
  $("help-alert").hidden = help.length === 0;
  $("help-alert-text").textContent = sayCount(app.texts, app.lang, "console.help_alert", help.length);
  renderEnd(app);
}

// Every count, name and sentence about the roll call comes from one model (model.js
// rollCall), in this one redraw: the summary, each person, and who is not reached yet.
// Who has a phone is told apart from who has not answered on it: a person with no phone gets
// no alarm at all, and "3/3" must not hide three more people.
function renderRollCall(app) {
  const { texts, lang } = app;
  const roll = rollCall(app.server.state);
  const count = (key, n, values = {}) => sayCount(texts, lang, key, n, values);
  const lines = [count("console.roll.alarm", roll.phones, { count: roll.reached, total: roll.phones })];
  for (const name of PERSON_STATES) {
    if (roll.counts[name] || name === "safe") {
      lines.push([name, count(`console.roll.state.${name}`, roll.counts[name])]);
    }
  }
  renderMuster(app, roll.muster);
  $("roll-summary").replaceChildren(...lines.map((line) => (typeof line === "string"
    ? element("span", {}, line)
    : element("span", { className: `roll-${line[0]}` }, line[1]))));
  const visitors = (app.server.state.roll_call.visitors || []).map((visitor) => {
    const about = say(texts, visitor.company ? "marshal.visitor_from" : "marshal.visitor", { company: visitor.company || "" });
    const status = say(texts, visitor.accounted ? "person.accounted" : "person.unaccounted");
    return element("li", { className: visitor.accounted ? "person-accounted" : "person-unaccounted" },
                   `${visitor.name} ${about}: ${status}`);
  });
  $("roll-people").replaceChildren(...roll.people.map((person) =>
    element("li", { className: `person-${person.state}` },
            `${person.name}: ${say(texts, `person.${person.state}`)}`)));
  $("roll-visitors").replaceChildren(...visitors);
  renderUnreached(app, roll);
}

// Everyone on site, staff and visitors, accounted for or not: what "everyone is out" means.
function renderMuster(app, muster) {
  const count = (key, n) => sayCount(app.texts, app.lang, key, n);
  const lines = [["on-site", count("muster.on_site", muster.on_site)],
                 ["accounted", count("muster.accounted", muster.accounted)],
                 ["unaccounted", count("muster.unaccounted", muster.unaccounted)]];
  if (muster.visitors) lines.push(["visitors", count("muster.visitors", muster.visitors)]);
  $("roll-muster").replaceChildren(...lines.map(([name, text]) =>
    element("span", { className: `count-${name}` }, text)));
}

// A new help request: make sure the duty manager notices it, wherever the page is scrolled.
export function helpRequested(app, event) {
  vibrate([400, 150, 400]);
  $("announcer").textContent = say(app.texts, "console.help_new", {
    location: helpWhere(app, event.payload.location),
  });
}

// Where help is needed, in the reader's words: a zone of the site is named from the site's
// data ("alue Elintarvikkeet" on a Finnish console), whatever language the person asking used.
export function helpWhere(app, location) {
  const zone = zoneNamed(app.server.state, location);
  return zone ? say(app.texts, "help.where_zone", { zone: zone.name }) : location;
}

// The minutes since the start move on without any event, so this part has its own tick.
export function renderSince(app) {
  const incident = app.server.state?.incident;
  if (!incident) return;
  const minutes = Math.floor((Date.now() - Date.parse(incident.started_at)) / 60000);
  $("console-since").textContent = sayCount(app.texts, app.lang, "console.since", minutes, {
    time: clock(app, incident.started_at),
  });
}

function zoneItem(app, zone, people) {
  const item = element("li", { className: `zone-${zone.sweep}` });
  item.dataset.zone = zone.id;
  const status = say(app.texts, `zone.status.${zone.sweep}`, { name: zone.by_name || "" });
  const when = zone.updated_at && zone.sweep !== "unchecked" ? `, ${clock(app, zone.updated_at)}` : "";
  item.append(element("strong", {}, zone.name), `: ${status}${when} `);
  // A request is not a sweep: the zone counts once the person accepts, and a "no" is shown.
  if (zone.asked) item.append(element("span", { className: "asked" }, say(app.texts, "console.zone_asked", { name: zone.asked_name })), " ");
  if (zone.declined) item.append(element("span", { className: "declined" }, say(app.texts, "console.zone_declined", { name: zone.declined_name })), " ");
  if (zone.sweep === "unchecked" || zone.sweep === "blocked") {
    // Only people whose phone can get the request: it is an alert they answer there.
    const reachable = people.filter((p) => p.state !== "no_phone" && p.staff_id !== zone.asked);
    const choose = element("select", { ariaLabel: `${say(app.texts, "console.assign")}: ${zone.name}` },
      element("option", { value: "" }, say(app.texts, zone.asked ? "console.assign_other" : "console.assign")),
      ...reachable.map((p) => element("option", { value: String(p.staff_id) }, p.name)));
    choose.onchange = () => {
      if (!choose.value) return;
      app.server.act(say(app.texts, "action.assign"),
                     `/api/sites/${app.server.me.site}/zones/${zone.id}/assign`,
                     { staff_id: Number(choose.value) });
      choose.blur();
    };
    choose.onblur = () => app.render();
    item.append(choose);
  }
  return item;
}

// The answer to a request to sweep, told to the duty manager wherever the page is scrolled.
export function sweepAnswered(app, event, zone) {
  const declined = event.type === "zone.sweep_declined";
  if (!declined && app.vocabulary.sweeps[event.type] !== "claimed") return; // a yes is a claim
  if (!zone?.asked || zone.asked !== event.payload.staff_id) return;
  const key = declined ? "console.sweep_declined" : "console.sweep_accepted";
  if (declined) vibrate([300, 100, 300]);
  $("announcer").textContent = say(app.texts, key, { name: event.payload.name, zone: zone.name });
}

function helpItem(app, request) {
  const raiser = app.server.state.roll_call.staff.find((p) => p.staff_id === request.raised_by);
  const asked = say(app.texts, "console.raised_by", { name: raiser?.name || "?",
                                                     time: clock(app, request.raised_at) });
  const done = element("button", { type: "button" }, say(app.texts, "console.resolve"));
  done.onclick = () => app.server.act(say(app.texts, "action.resolve"),
    `/api/sites/${app.server.me.site}/help-requests/${request.id}/resolve`);
  const where = `${helpWhere(app, request.location)}${request.note ? ` (${request.note})` : ""}`;
  return element("li", {}, `${where}: ${asked} `, done);
}

export async function renderHistory(app) {
  const response = await fetch(`/api/sites/${app.server.me.site}/incidents`).catch(() => null);
  if (!response?.ok) return;
  const { incidents } = await response.json();
  $("history").replaceChildren(...incidents.filter((i) => i.ended_at).map((incident) => {
    const summary = say(app.texts, "console.history_item", {
      started: momentOf(incident.started_at, app.texts, app.server.state?.site.timezone),
      kind: say(app.texts, `kind.${incident.kind}`),
      drill: incident.drill ? say(app.texts, "console.history_drill") : "",
      reason: say(app.texts, `console.reason.${incident.end_reason}`),
    });
    const report = `/api/sites/${app.server.me.site}/incidents/${incident.id}/report`;
    const links = [["html", `.html?lang=${app.lang}`], ["pdf", `.pdf?lang=${app.lang}`], ["csv", ".csv"],
                   ["bundle", ".bundle"]].map(([kind, ending]) =>
      element("a", { href: `${report}${ending}` }, say(app.texts, `console.report_${kind}`)));
    return element("li", {}, `${summary} `, element("span", { className: "report-links" }, ...links));
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
  wireStart(app);
  $("console-eta-save").onclick = () => {
    const eta = etaFrom($("console-eta"));
    app.server.act(say(app.texts, "action.eta"), `${site()}/incidents/current/update`,
                   eta ? { eta } : { clear_eta: true });
  };
  wireEnd(app);
  $("help-alert-show").onclick = () => $("help-list-heading").scrollIntoView();
  setInterval(() => renderSince(app), 15_000);
  renderChainSites(app);
  setInterval(() => renderChainSites(app), 30_000);
  wireReadiness(app);
  wireUnreached(app);
}
