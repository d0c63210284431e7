// The unaccounted, for the fire brigade: each person not accounted for with every place they
// were last known to be, visitors apart ("signed in 09.12, never signed out"), and the zones
// not swept clear (customers may still be there). Large and plain, to read aloud or print;
// from GET .../incidents/current/unaccounted, fetched again while it is open.
import { $, element } from "../dom.js";
import { say, sayCount } from "../texts.js";
import { momentOf, timeOf } from "../when.js";

const POLL_MS = 10_000;

async function refresh(app) {
  const response = await fetch(`/api/sites/${app.server.me.site}/incidents/current/unaccounted`,
                               { cache: "no-store" }).catch(() => null);
  if (!response?.ok) return;
  app.unaccounted = { ...(await response.json()), fetched_at: new Date().toISOString() };
  if (app.showingUnaccounted) app.render();
}

export function renderUnaccounted(app) {
  const { texts, lang } = app;
  const { state } = app.server;
  const list = app.unaccounted?.incident_id === state.incident.id ? app.unaccounted : null;
  const people = list?.people || [];
  $("missing-title").textContent = list ? sayCount(texts, lang, "missing.title", people.length)
    : say(texts, "marshal.loading");
  if (!list) return;
  $("missing-asof").textContent = say(texts, "missing.asof", {
    site: state.site.name, kind: say(texts, `kind.${state.incident.kind}`), time: clock(app, list.fetched_at),
  });
  const counts = list.counts;
  $("missing-counts").textContent = [
    sayCount(texts, lang, "muster.on_site", counts.on_site),
    sayCount(texts, lang, "muster.accounted", counts.accounted),
  ].join(". ");
  const staff = people.filter((p) => p.person === "staff");
  const visitors = people.filter((p) => p.person === "visitor");
  $("missing-people").replaceChildren(...staff.map((person) => personItem(app, person)));
  $("missing-visitors-heading").hidden = !visitors.length;
  $("missing-visitors").replaceChildren(...visitors.map((person) => personItem(app, person)));
  $("missing-zones").replaceChildren(...(list.zones.length ? list.zones.map((zone) => zoneItem(app, zone))
    : [element("li", {}, say(texts, "missing.zones_clear"))]));
}

function clock(app, iso) {
  return timeOf(iso, app.texts, app.server.state.site.timezone);
}

function zoneName(app, id) {
  return app.server.state.zones.find((zone) => zone.id === id)?.name || id;
}

function personItem(app, person) {
  const { texts } = app;
  const lines = [];
  if (person.person === "visitor") {
    lines.push(say(texts, person.company ? "missing.visitor_from" : "missing.visitor", { company: person.company || "" }));
    lines.push(say(texts, "missing.never_signed_out", {
      when: momentOf(person.signed_in_at, texts, app.server.state.site.timezone),
    }));
    if (person.self_signed) lines.push(say(texts, "missing.self_signed"));
  }
  for (const place of person.last_known) {
    const source = place.source === "home_zone" && person.person === "visitor" ? "host_zone" : place.source;
    lines.push(say(texts, `missing.place.${source}`, {
      where: place.where || "", zone: place.zone ? zoneName(app, place.zone) : "",
    }));
  }
  if (!person.last_known.length) lines.push(say(texts, "missing.place.unknown"));
  return element("li", {}, element("strong", {}, person.name),
                 element("ul", {}, ...lines.map((line) => element("li", {}, line))));
}

function zoneItem(app, zone) {
  const key = zone.sweep === "blocked" && zone.note ? "missing.zone.blocked_note" : `missing.zone.${zone.sweep}`;
  return element("li", { className: `zone-${zone.sweep}` }, element("strong", {}, zone.name),
                 `: ${say(app.texts, key, { note: zone.note || "" })}`);
}

export function wireUnaccounted(app) {
  $("console-unaccounted").onclick = () => {
    app.showingUnaccounted = true;
    app.render();
    scrollTo(0, 0);
    refresh(app);
  };
  $("missing-close").onclick = () => {
    app.showingUnaccounted = false;
    app.render();
  };
  $("missing-print").onclick = () => print();
  setInterval(() => {
    if (app.showingUnaccounted && app.server.connected && app.server.state?.incident) refresh(app);
  }, POLL_MS);
}
