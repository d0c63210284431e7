// Keeping the local copy of the site state current between two `state` messages: each event
// changes only what a staff screen shows. The next `state` from the server replaces it all.
// Which events sweep a zone or mark the roll call, and the languages, kinds and reasons, are
// the server's words (GET /api/vocabulary): the app keeps no copy of its own. What applyEvent
// makes of the log is held to the projectors' state by tests/test_model_js.py.
import * as store from "./store.js";

// The vocabulary, from the server or, offline (or signed out), as kept the last time.
export async function loadVocabulary() {
  const response = await fetch("/api/vocabulary").catch(() => null);
  if (!response?.ok) return store.get("vocabulary");
  const vocabulary = await response.json();
  await store.put("vocabulary", vocabulary);
  return vocabulary;
}

// Whether a role is one of the server's managers or responders (`managers`, `responders`):
// nobody is before the vocabulary is loaded, so no one sees a manager's controls on a guess.
export function isManager(vocabulary, role) {
  return Boolean(vocabulary?.managers?.includes(role));
}

export function isResponder(vocabulary, role) {
  return Boolean(vocabulary?.responders?.includes(role));
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
      Object.assign(zone, { sweep: "unchecked", by: null, by_name: null, note: null, updated_at: null,
                            asked: null, asked_name: null, declined: null, declined_name: null });
    }
    state.help_requests = [];
    const columns = rollCallColumns(vocabulary);
    for (const person of state.roll_call.staff) {
      for (const column of columns) person[column] = null;
    }
    // On the new incident's roll: everyone on the roll now; a visitor who left before it is not.
    if (state.roll_call.visitors) state.roll_call.visitors = state.roll_call.visitors.filter((v) => !v.left_at);
    for (const person of everyone(state)) person.accounted = person.reported_inside = null;
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
    // A request to sweep changes no sweep: it names who was asked, then who declined (and
    // when, as server/store/projectors/zones.py does).
    const zone = state.zones.find((z) => z.id === payload.zone);
    const asked = event.type === "zone.sweep_requested";
    if (zone) {
      Object.assign(zone, { updated_at: event.ts,
                            asked: asked ? payload.staff_id : null, asked_name: asked ? payload.name : null,
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
    // The mark that says how ("I am safe" from the phone, or the sign's QR code) accounts for them.
    if (person && payload.how) account(person, event, payload.how);
  } else {
    applyMusterEvent(state, event);
  }
  return state;
}

// Everyone on the roll this state holds: staff and (for responders) visitors.
function everyone(state) {
  return [...state.roll_call.staff, ...(state.roll_call.visitors || [])];
}

function personNamed(state, payload) {
  if (payload.staff_id) return state.roll_call.staff.find((p) => p.staff_id === payload.staff_id);
  return (state.roll_call.visitors || []).find((v) => v.visitor_id === payload.visitor_id);
}

// Accounted for once, whichever way came first (as server/store/projectors.py _account).
function account(person, event, how) {
  const by = event.actor?.staff_id ? { staff_id: event.actor.staff_id, name: event.actor.name } : null;
  person.accounted ||= { how, by, assembly_point: event.payload.assembly_point ?? null, at: event.ts };
}

// Marshals' marks and visitors coming and going (responders read these events; a staff phone
// gets them redacted).
function applyMusterEvent(state, event) {
  const payload = event.payload || {};
  const visitors = state.roll_call.visitors;
  if (event.type === "person.accounted") {
    const person = personNamed(state, payload);
    if (person) account(person, event, payload.how);
  } else if (event.type === "person.reported_inside") {
    const person = personNamed(state, payload);
    if (person) person.reported_inside = { location: payload.location, by: event.actor?.staff_id, at: event.ts };
  } else if (event.type === "visitor.signed_in" && visitors) {
    const { name, company } = payload.person || {};
    // Expected where their host's zone gathers (the marshal's list), as the server says.
    const host = state.roll_call.staff.find((p) => p.staff_id === payload.host_staff_id);
    visitors.push({ person: "visitor", visitor_id: payload.visitor_id, name, company,
                    home_zone: host?.home_zone ?? null,
                    expected_assembly_point: host?.expected_assembly_point ?? null,
                    host_staff_id: payload.host_staff_id,
                    self_signed: payload.self_signed, signed_in_at: event.ts, left_at: null,
                    accounted: null, reported_inside: null });
  } else if (event.type === "visitor.left" && visitors) {
    const visitor = personNamed(state, payload);
    if (!visitor) return;
    visitor.left_at = event.ts;
    // Out during an alarm: accounted for (left). With none, no longer on site.
    if (payload.incident_id) account(visitor, event, "left");
    else state.roll_call.visitors = visitors.filter((v) => v !== visitor);
  }
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
export const PERSON_STATES = ["safe", "accounted", "acknowledged", "has_alarm", "waiting", "no_phone"];

function personState(person, attempts) {
  if (person.safe_at) return "safe";
  if (person.accounted) return "accounted"; // by a marshal, who saw them out
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
    muster: musterCounts(state),
  };
}

// Everyone on site (staff on the roll and visitors), how many are accounted for and not, and
// how many of them are visitors: from the same rows the lists show, so the two agree.
export function musterCounts(state) {
  const all = everyone(state);
  const accounted = all.filter((person) => person.accounted).length;
  return { on_site: all.length, accounted, unaccounted: all.length - accounted,
           visitors: (state.roll_call.visitors || []).length };
}
