// The marshal's screen at the assembly point, during an incident: the counts at the top, the
// point chosen, the people expected there (by their zone) first, a search by name, and one tap
// per person to mark them here, or to report them still inside. The roll comes from GET
// .../incidents/current/people (polled while open and online; kept for offline use). A mark
// goes through the outbox, so one made offline is kept and sent in order; until the server has
// it, the person shows as waiting to send.
import { $, element } from "../dom.js";
import * as store from "../store.js";
import { say, sayCount } from "../texts.js";
import { timeOf } from "../when.js";

const POLL_MS = 5_000;
const MARKS = "/incidents/current/accounted";

// Who the marks waiting in the outbox name: "staff-3", "visitor-7".
function personKey(person) {
  return person.staff_id ? `staff-${person.staff_id}` : `visitor-${person.visitor_id}`;
}

function pendingMarks(items) {
  return new Set(items.filter((item) => item.path.endsWith(MARKS)).map((item) => personKey(item.body)));
}

export function openMarshal(app) {
  app.showingMarshal = true;
  app.render();
  scrollTo(0, 0);
  refreshRoll(app);
}

// Fetch the roll now (online), and keep the copy for when the network is gone.
async function refreshRoll(app) {
  const site = app.server.me.site;
  const response = await fetch(`/api/sites/${site}/incidents/current/people`, { cache: "no-store" })
    .catch(() => null);
  if (!response?.ok) return;
  app.muster = await response.json();
  await store.put("muster", app.muster);
  if (app.showingMarshal) app.render();
}

export function renderMarshal(app) {
  const { state } = app.server;
  const muster = app.muster?.incident_id === state.incident.id ? app.muster : null;
  $("marshal-loading").hidden = Boolean(muster);
  $("marshal-roll").hidden = !muster;
  if (!muster) return;
  const points = muster.assembly_points;
  app.marshalPoint = points.some((p) => p.id === app.marshalPoint) ? app.marshalPoint : homePoint(app, points);
  if (!$("marshal-point").matches(":focus")) {
    $("marshal-point").replaceChildren(...points.map((point) =>
      element("option", { value: point.id, selected: point.id === app.marshalPoint }, point.name)));
  }
  renderCounts(app, muster.people);
  // The list is redrawn only when nobody is typing a location into it.
  if (document.activeElement?.matches("#marshal-roll li input")) return;
  const query = $("marshal-search").value.trim().toLocaleLowerCase();
  // Redrawn only when something shown changed: a button replaced under a finger loses the tap.
  const shown = JSON.stringify([muster.people, [...(app.pendingMarks || [])], query, app.marshalPoint, app.lang]);
  if (shown === app.marshalShown) return;
  app.marshalShown = shown;
  const found = muster.people.filter((p) => !query || p.name.toLocaleLowerCase().includes(query));
  const expected = found.filter((p) => p.expected_assembly_point === app.marshalPoint);
  const others = found.filter((p) => p.expected_assembly_point !== app.marshalPoint);
  const pointName = points.find((p) => p.id === app.marshalPoint)?.name || "";
  $("marshal-expected-heading").textContent = say(app.texts, "marshal.expected", { point: pointName });
  $("marshal-expected").replaceChildren(...listOrNone(app, expected));
  $("marshal-others").replaceChildren(...listOrNone(app, others));
}

function listOrNone(app, people) {
  return people.length ? people.map((person) => personItem(app, person))
    : [element("li", { className: "none" }, say(app.texts, "marshal.nobody"))];
}

// The point of my own zone, else the first: where I most likely stand.
function homePoint(app, points) {
  const zone = app.server.state.zones.find((z) => z.id === app.server.me.home_zone);
  return zone?.assembly_point_id || points[0]?.id || null;
}

// The counts, with the marks not yet sent counted as accounted for (and said apart).
function renderCounts(app, people) {
  const { texts, lang } = app;
  const waiting = people.filter((p) => !p.accounted && app.pendingMarks?.has(personKey(p))).length;
  const accounted = people.filter((p) => p.accounted).length + waiting;
  const lines = [
    ["on-site", sayCount(texts, lang, "muster.on_site", people.length)],
    ["accounted", sayCount(texts, lang, "muster.accounted", accounted)],
    ["unaccounted", sayCount(texts, lang, "muster.unaccounted", people.length - accounted)],
  ];
  if (waiting) lines.push(["waiting", sayCount(texts, lang, "marshal.waiting", waiting)]);
  $("marshal-counts").replaceChildren(...lines.map(([name, text]) =>
    element("span", { className: `count-${name}` }, text)));
}

function personItem(app, person) {
  const { texts } = app;
  const pending = !person.accounted && app.pendingMarks?.has(personKey(person));
  const item = element("li", { className: person.accounted ? "is-accounted" : pending ? "is-pending" : "" });
  item.dataset.person = personKey(person);
  const about = person.person === "visitor"
    ? say(texts, person.company ? "marshal.visitor_from" : "marshal.visitor", { company: person.company || "" })
    : "";
  item.append(element("p", { className: "who" }, element("strong", {}, person.name), about ? ` ${about}` : ""),
              element("p", { className: "status" }, statusOf(app, person, pending)));
  if (person.reported_inside) {
    item.append(element("p", { className: "inside" },
      say(texts, "marshal.reported_inside", { location: person.reported_inside.location })));
  }
  if (!person.accounted && !pending) item.append(markButton(app, person), insideForm(app, person));
  return item;
}

function statusOf(app, person, pending) {
  const { texts } = app;
  if (pending) return say(texts, "marshal.status.waiting");
  const accounted = person.accounted;
  if (!accounted) return say(texts, "marshal.status.none");
  const point = app.muster.assembly_points.find((p) => p.id === accounted.assembly_point)?.name || "";
  return say(texts, `marshal.how.${accounted.how}${point ? "_at" : ""}`, {
    point, name: accounted.by?.name || "",
    time: timeOf(accounted.at, texts, app.server.state.site.timezone),
  });
}

function markButton(app, person) {
  const label = say(app.texts, "marshal.mark");
  const button = element("button", { type: "button", className: "mark" }, label);
  button.setAttribute("aria-label", `${person.name}: ${label}`);
  button.onclick = () => {
    const who = person.staff_id ? { staff_id: person.staff_id } : { visitor_id: person.visitor_id };
    // The same key for the same person in this incident: a second tap is the same mark.
    const key = `account-${app.muster.incident_id}-${personKey(person)}`;
    app.pendingMarks = new Set([...(app.pendingMarks || []), personKey(person)]);
    app.render();
    app.server.act(say(app.texts, "action.account", { name: person.name }),
                   `/api/sites/${app.server.me.site}${MARKS}`,
                   { ...who, assembly_point: app.marshalPoint }, key);
  };
  return button;
}

// "Still inside": where the person was seen, for the fire brigade.
function insideForm(app, person) {
  const id = `inside-${personKey(person)}`;
  const input = element("input", { id, autocomplete: "off" });
  const send = element("button", { type: "button" }, say(app.texts, "marshal.inside_send"));
  send.onclick = () => {
    const location = input.value.trim();
    if (!location) return input.focus();
    const who = person.staff_id ? { staff_id: person.staff_id } : { visitor_id: person.visitor_id };
    app.server.act(say(app.texts, "action.report_inside", { name: person.name }),
                   `/api/sites/${app.server.me.site}/incidents/current/reported-inside`, { ...who, location });
    input.blur();
    person.reported_inside = { location }; // shown at once, also offline
    app.render();
  };
  return element("details", {},
    element("summary", {}, say(app.texts, "marshal.inside")),
    element("label", { htmlFor: id }, say(app.texts, "marshal.inside_where", { name: person.name })),
    input, send);
}

export async function wireMarshal(app) {
  app.muster = await store.get("muster");
  app.pendingMarks = pendingMarks(await store.outbox());
  $("marshal-close").onclick = () => {
    app.showingMarshal = false;
    app.render();
  };
  $("marshal-point").onchange = () => {
    app.marshalPoint = $("marshal-point").value;
    $("marshal-point").blur();
    app.render();
  };
  $("marshal-search").oninput = () => app.render();
  $("alarm-marshal").onclick = () => openMarshal(app);
  $("console-marshal").onclick = () => openMarshal(app);
  app.server.addEventListener("outbox", async ({ detail }) => {
    const waiting = pendingMarks(detail);
    // A mark delivered: it stays "waiting" until the roll from the server has it.
    if ([...app.pendingMarks].some((key) => !waiting.has(key))) await refreshRoll(app);
    app.pendingMarks = pendingMarks(await store.outbox());
    if (app.showingMarshal) app.render();
  });
  setInterval(() => {
    if (app.showingMarshal && app.server.connected && app.server.state?.incident) refreshRoll(app);
  }, POLL_MS);
}
