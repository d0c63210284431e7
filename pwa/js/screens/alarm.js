// The alarm screen: takes over the app while an incident runs. The kind (and DRILL) large,
// "got it", the script for customers, my zone's sweep, help for a person, "I am safe".
import { $, element, vibrate } from "../dom.js";
import { myRollCall, zoneNamed } from "../model.js";
import { say } from "../texts.js";
import { timeOf } from "../when.js";


export function renderAlarm(app) {
  const { state, me } = app.server;
  const incident = state.incident;
  const script = app.scripts?.scripts[app.lang]?.[incident.kind];
  $("alarm-title").textContent = script ? script.title : incident.kind;
  // A drill and a real alarm never look alike: DRILL on blue stripes, or "not a drill" on red.
  $("alarm-drill").hidden = $("alarm-drill-explain").hidden = !incident.drill;
  $("alarm-real").hidden = Boolean(incident.drill);
  $("alarm-message").textContent = incident.message || "";
  $("screen-alarm").classList.toggle("is-drill", Boolean(incident.drill));
  $("script-lines").replaceChildren(...(script?.lines || []).map((line) => element("li", {}, line)));
  $("alarm-marshal").hidden = !me.marshal; // guards, managers, staff marked marshal
  renderZone(app);
  renderMyHelp(app);
  const mine = myRollCall(state, me);
  $("ack").hidden = Boolean(mine.acknowledged_at || app.acknowledged === incident.id);
  $("ack-done").hidden = !$("ack").hidden;
  $("safe").hidden = Boolean(mine.safe_at || app.safe === incident.id);
  $("safe-done").hidden = !$("safe").hidden;
}

// The zone this phone shows: the one I sweep, else the one I chose, else my home zone. Its
// buttons are those that can still change it; once clear, the way to another zone.
function renderZone(app) {
  const { state, me } = app.server;
  const mine = state.zones.find((z) => z.sweep === "claimed" && z.by === me.staff_id);
  const zone = (app.chosenZone && state.zones.find((z) => z.id === app.chosenZone))
    || mine || state.zones.find((z) => z.id === me.home_zone) || state.zones[0];
  if (!zone) return;
  $("zone-heading").textContent = zone.name;
  $("zone-exits").textContent = zone.exits.join(", ");
  $("zone-assembly").textContent = zone.assembly_point;
  $("zone-sweep").textContent = sweepStatus(app, zone);
  $("zone-claim").hidden = !["unchecked", "blocked"].includes(zone.sweep);
  $("zone-clear").hidden = zone.sweep === "clear";
  $("zone-block").hidden = ["clear", "blocked"].includes(zone.sweep);
  $("zone-actions").hidden = zone.sweep === "clear";
  $("zone-answer").textContent = app.zoneAnswer?.incident === state.incident.id ? app.zoneAnswer.text : "";
  $("zone-pick-label").textContent = say(app.texts, zone.sweep === "clear" ? "zone.pick_next" : "zone.pick");
  $("zone-pick").replaceChildren(...state.zones.map((z) => {
    const option = element("option", { value: z.id }, `${z.name}: ${sweepStatus(app, z)}`);
    option.selected = z.id === zone.id;
    return option;
  }));
  app.zone = zone;
  renderAsked(app);
}

function sweepStatus(app, zone) {
  return say(app.texts, `zone.status.${zone.sweep}`, { name: zone.by_name || "" });
}

// A zone the duty manager asked me to sweep, until I answer.
function renderAsked(app) {
  const { state, me } = app.server;
  const asked = state.zones.find((z) => z.asked === me.staff_id);
  $("sweep-asked").hidden = !asked;
  if (!asked) return;
  $("sweep-asked-text").textContent = say(app.texts, "zone.asked_me", { zone: asked.name });
  app.askedZone = asked;
}

// The duty manager asked someone to sweep: on that person's phone it is an alert.
export function sweepAsked(app, event) {
  if (event.payload.staff_id !== app.server.me.staff_id) return;
  vibrate([400, 150, 400]);
  $("announcer").textContent = $("sweep-asked-text").textContent;
}

// The help I asked for: sent (the duty manager sees it), then dealt with, and by whom.
function renderMyHelp(app) {
  const { state, me } = app.server;
  const where = (location) => {
    const zone = zoneNamed(state, location);
    return zone ? say(app.texts, "help.where_zone", { zone: zone.name }) : location;
  };
  const time = (iso) => timeOf(iso, app.texts, state.site.timezone);
  const open = state.help_requests.filter((h) => h.raised_by === me.staff_id).map((h) =>
    element("li", {}, say(app.texts, "help.sent", { time: time(h.raised_at), location: where(h.location) })));
  const resolved = (app.myResolvedHelp || []).filter((h) => h.incident === state.incident.id).map((h) =>
    element("li", { className: "done" }, say(app.texts, "help.resolved", { location: where(h.location), name: h.by })));
  $("help-mine").replaceChildren(...open, ...resolved);
}

// Someone dealt with a help request: if it was mine, I am told so until the alarm ends.
export function helpResolved(app, request, event) {
  if (!request || request.raised_by !== app.server.me.staff_id) return;
  app.myResolvedHelp = [...(app.myResolvedHelp || []),
    { incident: app.server.state.incident?.id, location: request.location, by: event.actor.name }];
}

// Wire the buttons once; they act on whatever incident and zone are shown.
export function wireAlarm(app) {
  const site = () => `/api/sites/${app.server.me.site}`;
  const label = (key) => say(app.texts, key);
  $("ack").onclick = () => {
    app.acknowledged = app.server.state.incident.id;
    app.render();
    app.server.act(label("action.acknowledge"), `${site()}/incidents/current/acknowledge`);
  };
  $("safe").onclick = () => {
    app.safe = app.server.state.incident.id;
    app.render();
    app.server.act(label("action.safe"), `${site()}/incidents/current/safe`);
  };
  const sweep = (zone, action, key, answer) => {
    app.chosenZone = zone.id; // the card stays on the zone I acted on, to show what became of it
    app.zoneAnswer = { incident: app.server.state.incident.id,
                       text: say(app.texts, answer, { zone: zone.name }) };
    app.server.act(label(key), `${site()}/zones/${zone.id}/${action}`);
    app.render();
  };
  for (const [button, action, key] of [["zone-claim", "claim", "action.claim"],
                                       ["zone-clear", "clear", "action.clear"],
                                       ["zone-block", "block", "action.block"]]) {
    $(button).onclick = () => sweep(app.zone, action, key, `zone.answer.${action}`);
  }
  $("sweep-accept").onclick = () => {
    app.askedZone.asked = null; // answered: the alert goes at once, also offline
    sweep(app.askedZone, "claim", "action.claim", "zone.answer.accept");
  };
  $("sweep-decline").onclick = () => {
    const zone = app.askedZone;
    app.zoneAnswer = { incident: app.server.state.incident.id,
                       text: say(app.texts, "zone.answer.decline", { zone: zone.name }) };
    zone.asked = null; // answered: the alert goes at once, also offline
    app.server.act(label("action.decline"), `${site()}/zones/${zone.id}/decline`);
    app.render();
  };
  $("zone-pick").onchange = () => {
    app.chosenZone = $("zone-pick").value;
    app.zoneAnswer = null;
    app.render();
  };
  $("help-send").onclick = () => {
    const note = $("help-note").value.trim();
    // The zone's name, the site's data: each reader's screen words it in its own language.
    const location = app.zone?.name || "?";
    app.server.act(label("action.help"), `${site()}/help-requests`, note ? { location, note } : { location });
    $("help-note").value = "";
  };
  $("show-customer").onclick = () => {
    app.customerLang = app.lang;
    app.showingCustomer = true;
    app.render();
    scrollTo(0, 0); // the customer sees the top: the headline, then the script
  };
}

// The moment the alarm arrives: tell the server it reached this phone, vibrate, sound, announce.
export function alarmArrived(app, incidentId) {
  app.server.act(say(app.texts, "action.delivered"),
                 `/api/sites/${app.server.me.site}/incidents/current/delivered`, {},
                 `delivered-${app.server.me.staff_id}-${incidentId}`);
  // A page not tapped yet may neither vibrate nor sound (the browser's rule for sticky user
  // activation): then the first tap anywhere does it, while the alarm is still shown.
  if (!navigator.userActivation || navigator.userActivation.hasBeenActive) {
    ring();
  } else {
    addEventListener("pointerdown", () => { if (app.server.state?.incident) ring(); },
                     { once: true, capture: true });
  }
}

function ring() {
  vibrate([600, 200, 600, 200, 600]);
  beep();
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 1.2);
  } catch {
    // Browsers may refuse sound before the first tap; the vibration and the screen remain.
  }
}
