// Keeping the local copy of the site state current between two `state` messages: each event
// changes only what a staff screen shows. The next `state` from the server replaces it all.
// Which events sweep a zone or mark the roll call, and the languages, kinds and reasons, are
// the server's words (GET /api/vocabulary): the app keeps no copy of its own.
import * as store from "./store.js";

// The vocabulary, from the server or, offline (or signed out), as kept the last time.
export async function loadVocabulary() {
  const response = await fetch("/api/vocabulary").catch(() => null);
  if (!response?.ok) return store.get("vocabulary");
  const vocabulary = await response.json();
  await store.put("vocabulary", vocabulary);
  return vocabulary;
}

function rollCallColumns(vocabulary) {
  return [...new Set(Object.values(vocabulary.roll_call).flat())];
}

export function applyEvent(state, event, vocabulary) {
  const payload = event.payload || {};
  const sweep = vocabulary.sweeps[event.type];
  const marks = vocabulary.roll_call[event.type];
  state.seq = event.seq;
  if (event.type === "incident.started") {
    state.incident = { id: payload.incident_id, kind: payload.kind, drill: payload.drill,
                       message: payload.message, eta: payload.eta, started_at: event.ts };
    for (const zone of state.zones) {
      Object.assign(zone, { sweep: "unchecked", by: null, by_name: null, asked: null, asked_name: null,
                            declined: null, declined_name: null });
    }
    state.help_requests = [];
    const columns = rollCallColumns(vocabulary);
    for (const person of state.roll_call.staff) {
      for (const column of columns) person[column] = null;
    }
  } else if (event.type === "incident.updated" && state.incident) {
    Object.assign(state.incident, { eta: payload.eta, message: payload.message });
  } else if (event.type === "incident.ended") {
    state.incident = null;
  } else if (event.type === "help.requested") {
    state.help_requests.push({ id: payload.help_id, location: payload.location, note: payload.note,
                               raised_by: event.actor.staff_id, raised_at: event.ts });
  } else if (event.type === "help.resolved") {
    state.help_requests = state.help_requests.filter((h) => h.id !== payload.help_id);
  } else if (["zone.sweep_requested", "zone.sweep_declined"].includes(event.type)) {
    // A request to sweep changes no sweep: it names who was asked, then who declined.
    const zone = state.zones.find((z) => z.id === payload.zone);
    const asked = event.type === "zone.sweep_requested";
    if (zone) {
      Object.assign(zone, { asked: asked ? payload.staff_id : null, asked_name: asked ? payload.name : null,
                            declined: asked ? null : payload.staff_id,
                            declined_name: asked ? null : payload.name });
    }
  } else if (sweep) {
    const zone = state.zones.find((z) => z.id === payload.zone);
    // The sweeper is the actor, except when a duty manager assigned the zone to someone;
    // the payload names them (a staff phone's roll call holds only its own row).
    const sweeper = state.roll_call.staff.find((p) => p.staff_id === payload.staff_id);
    if (zone) {
      Object.assign(zone, { sweep, by: payload.staff_id, note: payload.note,
                            by_name: payload.name ?? sweeper?.name ?? event.actor.name,
                            updated_at: event.ts, asked: null, asked_name: null,
                            declined: null, declined_name: null });
    }
  } else if (event.type === "backup.requested" && state.backup_requests) {
    state.backup_requests.push({ id: payload.backup_id, raised_by: payload.staff_id,
                                 location: payload.location, note: payload.note });
  } else if (["backup.cancelled", "backup.answered"].includes(event.type) && state.backup_requests) {
    state.backup_requests = state.backup_requests.filter((b) => b.id !== payload.backup_id);
  } else if (["device.enrolled", "token.created"].includes(event.type)) {
    const person = state.roll_call.staff.find((p) => p.staff_id === payload.staff_id);
    if (person) person.enrolled = true;
  } else if (marks) {
    // Each step also proves the ones before it ("safe" means the alarm arrived), as on the server.
    const person = state.roll_call.staff.find((p) => p.staff_id === payload.staff_id);
    if (person) for (const column of marks) person[column] ||= event.ts;
  }
  return state;
}

export function myRollCall(state, me) {
  return state?.roll_call?.staff.find((p) => p.staff_id === me.staff_id) || {};
}

// The zone a help request's location names (the app sends a zone's name), if it is one.
export function zoneNamed(state, location) {
  return state?.zones.find((zone) => zone.name === location || zone.id === location) || null;
}

// The roll call as the console reads it. Each person is in exactly one state, and every
// count, list and sentence comes from these states in the same redraw, so that no two can
// disagree ("3 of 3 phones" beside someone "not reached yet"). A new kind of person or a
// new state is one more entry here, and the console says it with its own sentence.
export const PERSON_STATES = ["safe", "acknowledged", "has_alarm", "waiting", "no_phone"];

function personState(person, attempts) {
  if (person.safe_at) return "safe";
  if (person.acknowledged_at) return "acknowledged";
  if (person.delivered_at) return "has_alarm";
  const hasPhone = person.enrolled || attempts.some((a) => a.staff_id === person.staff_id);
  return hasPhone ? "waiting" : "no_phone";
}

export function rollCall(state) {
  const attempts = state.escalations || [];
  const people = state.roll_call.staff.map((person) => ({
    ...person,
    state: personState(person, attempts),
    attempts: attempts.filter((a) => a.staff_id === person.staff_id),
  }));
  const counts = Object.fromEntries(PERSON_STATES.map((name) => [name, 0]));
  for (const person of people) counts[person.state] += 1;
  const phones = people.length - counts.no_phone;
  return {
    people,
    counts,
    total: people.length,
    phones,
    reached: phones - counts.waiting, // phones the alarm is on
    unreached: people.filter((person) => person.state === "waiting"),
  };
}
