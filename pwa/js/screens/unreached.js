// Who the alarm has not reached yet, on the duty manager's console while an incident runs, and
// how each was tried: the push again, then an SMS (server/escalation.py). The state brings the
// attempts so far (`escalations`); the events add the next ones and their answers.
import { $, element } from "../dom.js";
import { say } from "../texts.js";

function clock(app, iso) {
  return new Date(iso).toLocaleTimeString(app.lang, { hour: "2-digit", minute: "2-digit" });
}

// The events that change an attempt, applied to the local copy of the state.
function applyAttempt(state, event) {
  const attempts = (state.escalations ||= []);
  const payload = event.payload || {};
  if (event.type === "alarm.escalated") {
    attempts.push({ staff_id: payload.staff_id, step: payload.step, channel: payload.channel,
                    at: event.ts, outcome: null });
  } else if (event.type === "sms.sent") {
    const attempt = attempts.find((a) => a.staff_id === payload.staff_id && a.step === payload.step);
    if (attempt) attempt.outcome = payload.outcome;
  } else if (event.type === "push.sent" && payload.purpose === "escalation") {
    for (const result of payload.results) {
      const attempt = attempts.find((a) => a.staff_id === result.staff_id && a.step === payload.step);
      // One phone that can ring is enough: "accepted" wins over the person's other phones.
      if (attempt && attempt.outcome !== "accepted") attempt.outcome = result.outcome;
    }
  } else {
    return false;
  }
  return true;
}

export function renderUnreached(app) {
  const state = app.server.state;
  if (!state?.incident) return;
  const attempts = state.escalations || [];
  const unreached = state.roll_call.staff.filter((person) => !person.delivered_at
    && (person.enrolled || attempts.some((a) => a.staff_id === person.staff_id)));
  const list = new Intl.ListFormat(app.lang, { type: "conjunction" });
  $("unreached").replaceChildren(...(unreached.length ? unreached.map((person) => {
    const tried = attempts.filter((a) => a.staff_id === person.staff_id).map((a) =>
      say(app.texts, `unreached.attempt.${a.channel}`, {
        time: clock(app, a.at),
        outcome: say(app.texts, `unreached.outcome.${a.outcome || "waiting"}`),
      }));
    const how = tried.length ? list.format(tried) : say(app.texts, "unreached.nothing_tried");
    const item = element("li", { className: "unreached" },
                         say(app.texts, "unreached.person", { name: person.name, attempts: how }));
    item.dataset.staffId = String(person.staff_id);
    return item;
  }) : [element("li", {}, say(app.texts, "unreached.none"))]));
}

export function wireUnreached(app) {
  app.server.addEventListener("state", () => renderUnreached(app));
  app.server.addEventListener("event", ({ detail }) => {
    if (app.server.state && applyAttempt(app.server.state, detail)) renderUnreached(app);
    else if (detail.type.startsWith("alarm.") || detail.type === "incident.started") {
      renderUnreached(app);
    }
  });
}
