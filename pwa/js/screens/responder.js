// For guards, duty managers and admins: open backup requests, on every screen, each with
// "on my way". Once someone answers, the request stays in sight with who is on the way (its
// place is where the responder is going) until each responder taps OK. Staff never receive
// these (the server redacts them).
import { $, element, vibrate } from "../dom.js";
import * as store from "../store.js";
import { say } from "../texts.js";

function who(app, request) {
  const people = app.server.state?.roll_call.staff || [];
  return request.name || people.find((p) => p.staff_id === request.raised_by)?.name || "?";
}

export function renderBackupRequests(app) {
  // The ones I said I cannot come to are for the others now.
  const requests = (app.server.state?.backup_requests || [])
    .filter((request) => !app.declinedBackups?.includes(request.id));
  const answered = app.answeredBackups || [];
  $("backup-requests").hidden = requests.length + answered.length === 0;
  const open = requests.map((request) => {
    const text = say(app.texts, "responder.request", {
      name: who(app, request), location: request.location,
    });
    const button = element("button", { type: "button" }, say(app.texts, "responder.answer"));
    button.onclick = () => app.server.act(
      say(app.texts, "action.answer"),
      `/api/sites/${app.server.me.site}/backup-requests/${request.id}/answer`);
    const cannot = element("button", { type: "button" }, say(app.texts, "responder.decline"));
    cannot.onclick = () => {
      app.declinedBackups = [...(app.declinedBackups || []), request.id];
      store.put("backup_declined", app.declinedBackups);
      app.server.act(say(app.texts, "action.decline_backup"),
                     `/api/sites/${app.server.me.site}/backup-requests/${request.id}/decline`);
      app.render();
    };
    return element("li", {}, element("p", {}, text), element("div", { className: "row" }, button, cannot));
  });
  const onTheWay = answered.map((entry) => {
    const values = { responder: entry.by, name: who(app, entry.request), location: entry.request.location };
    const key = entry.byMe ? "responder.i_am_on_the_way" : "responder.on_the_way";
    const ok = element("button", { type: "button" }, say(app.texts, "dismiss"));
    ok.onclick = () => {
      app.answeredBackups = app.answeredBackups.filter((other) => other !== entry);
      app.render();
    };
    return element("li", { className: "answered" }, element("p", {}, say(app.texts, key, values)), ok);
  });
  $("backup-request-list").replaceChildren(...open, ...onTheWay);
}

// `request`: the open request the event answered, as this phone knew it.
export function backupAnsweredByResponder(app, request, event) {
  if (!request) return;
  app.answeredBackups = [...(app.answeredBackups || []), {
    request, by: event.actor.name, byMe: event.actor.staff_id === app.server.me.staff_id,
  }];
}

// A new request: make sure the responder notices it.
export function backupRequested(app) {
  vibrate([300, 100, 300, 100, 300, 100, 300]);
  $("announcer").textContent = $("backup-request-list").textContent;
}

export async function wireResponder(app) {
  app.declinedBackups = (await store.get("backup_declined")) || [];
}
