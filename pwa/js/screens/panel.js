// The fire-alarm panel on the duty manager's console, on both of its screens: the pre-alarm's
// countdown with "Evacuate now" and "Dismiss", "Alarm panel link down", and the panel's latest
// faults, tests and resets. The server starts the evacuation by itself when the countdown runs
// out; this screen only shows how long is left. Staff phones never receive these events.
import { $, element, vibrate } from "../dom.js";
import { say, sayCount } from "../texts.js";
import { timeOf } from "../when.js";

const NOTES_SHOWN = 5;

function clock(app, iso) {
  return timeOf(iso, app.texts, app.server.state?.site.timezone);
}

// Keep state.alarm_panel (as the server's `state` gives it) current between two `state`s.
export function applyPanelEvent(state, event) {
  const panel = state.alarm_panel;
  if (!panel) return; // not a responder's state
  const payload = event.payload || {};
  if (event.type === "pre_alarm.started") {
    panel.pre_alarm = { id: payload.pre_alarm_id, detail: payload.detail, started_at: event.ts,
                        deadline: payload.deadline };
  } else if (event.type.startsWith("pre_alarm.")) {
    panel.pre_alarm = null;
  } else if (event.type === "alarm_panel.link_up" || event.type === "alarm_panel.link_down") {
    panel.link = { state: event.type.endsWith("up") ? "up" : "down", since: event.ts };
  } else if (event.type === "alarm_panel.signalled" && payload.action === "notify") {
    panel.notes = [{ event: payload.signal, detail: payload.detail, at: event.ts },
                   ...panel.notes].slice(0, NOTES_SHOWN);
  }
}

// The seconds left of the countdown, by this phone's clock.
function secondsLeft(preAlarm) {
  return Math.max(0, Math.ceil((Date.parse(preAlarm.deadline) - Date.now()) / 1000));
}

function renderCountdown(app) {
  const preAlarm = app.server.state?.alarm_panel?.pre_alarm;
  if (!preAlarm) return;
  const left = secondsLeft(preAlarm);
  $("pre-alarm-countdown").textContent = left > 0
    ? sayCount(app.texts, app.lang, "panel.countdown", left)
    : say(app.texts, "panel.countdown_over");
}

export function renderAlarmPanel(app, isManager) {
  const panel = isManager ? app.server.state?.alarm_panel : null;
  const preAlarm = panel?.pre_alarm;
  const down = panel?.link?.state === "down";
  const notes = panel?.notes || [];
  $("alarm-panel").hidden = !preAlarm && !down && notes.length === 0;
  $("pre-alarm").hidden = !preAlarm;
  if (preAlarm) {
    $("pre-alarm-title").textContent = say(app.texts, "panel.pre_alarm");
    $("pre-alarm-detail").textContent = preAlarm.detail || "";
    renderCountdown(app);
  }
  $("panel-link-down").hidden = !down;
  if (down) $("panel-link-down").textContent = say(app.texts, "panel.link_down", {
    time: clock(app, panel.link.since) });
  $("panel-notes").replaceChildren(...notes.map((note) => element("li", {},
    say(app.texts, `panel.note.${note.event}`, { time: clock(app, note.at) }),
    ...(note.detail ? [" ", element("span", { className: "panel-detail" }, note.detail)] : []))));
}

// A pre-alarm must be noticed: the phone vibrates and a screen reader says it.
export function panelEventArrived(app, event) {
  if (event.type === "pre_alarm.started") {
    vibrate([500, 200, 500, 200, 500]);
    $("announcer").textContent = say(app.texts, "panel.pre_alarm");
  } else if (event.type === "alarm_panel.link_down") {
    $("announcer").textContent = $("panel-link-down").textContent;
  }
}

export function wirePanel(app) {
  const site = () => `/api/sites/${app.server.me.site}/alarm-panel/pre-alarm`;
  // Sent at once, never kept for later: an evacuation must not start by surprise.
  $("pre-alarm-confirm").onclick = () => app.server.send_now(
    `${site()}/confirm`, {}, say(app.texts, "action.confirm_pre_alarm"));
  $("pre-alarm-dismiss").onclick = () => app.server.send_now(
    `${site()}/dismiss`, {}, say(app.texts, "action.dismiss_pre_alarm"));
  setInterval(() => renderCountdown(app), 1000);
}
