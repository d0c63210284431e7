// Who the alarm has not reached yet, on the duty manager's console while an incident runs, and
// how each was tried: the push again, then an SMS (server/rules/escalation.py). The state brings the
// attempts so far (`escalations`); the events add the next ones and their answers.
import { $, element } from "../dom.js";
import { say, sayCount } from "../texts.js";
import { timeOf } from "../when.js";

function clock(app, iso) {
  return timeOf(iso, app.texts, app.server.state?.site.timezone);
}

// The events that change an attempt, applied to the local copy of the state.
function applyAttempt(state, event) {
  const attempts = (state.escalations ||= []);
  const payload = event.payload || {};
  if (event.type === "incident.started") {
    state.escalations = []; // nothing of the last incident's attempts belongs to this one
  } else if (event.type === "alarm.escalated") {
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
  }
}

// Part of the console's one redraw (console.js renderRollCall), from the same roll call.
export function renderUnreached(app, roll) {
  const { texts, lang } = app;
  const list = new Intl.ListFormat(lang, { type: "conjunction" });
  const item = (person) => {
    const tried = person.attempts.map((a) => say(texts, `unreached.attempt.${a.channel}`, {
      time: clock(app, a.at),
      outcome: say(texts, `unreached.outcome.${a.outcome || "waiting"}`),
    }));
    const how = tried.length ? list.format(tried) : say(texts, "unreached.nothing_tried");
    const li = element("li", { className: "unreached" },
                       say(texts, "unreached.person", { name: person.name, attempts: how }));
    li.dataset.staffId = String(person.staff_id);
    return li;
  };
  // "On every phone" only when it is true, and never silent about the people with none.
  const none = !roll.phones ? say(texts, "unreached.no_phones")
    : roll.counts.no_phone ? sayCount(texts, lang, "unreached.none_but_no_phone", roll.counts.no_phone)
      : say(texts, "unreached.none");
  $("unreached").replaceChildren(...(roll.unreached.length ? roll.unreached.map(item)
    : [element("li", { className: roll.counts.no_phone ? "roll-no_phone" : "" }, none)]));
}

// The attempts are applied before the app redraws the console for the same event (this
// listener is added first), so that the card and the roll call change together.
export function wireUnreached(app) {
  app.server.addEventListener("event", ({ detail }) => {
    if (app.server.state) applyAttempt(app.server.state, detail);
  });
}
