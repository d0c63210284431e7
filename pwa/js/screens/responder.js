// For guards, duty managers and admins: open backup requests, on every screen, each with
// "on my way". Staff never receive these (the server redacts them).
import { $, element } from "../dom.js";
import { say } from "../texts.js";


export function renderBackupRequests(app) {
  const requests = app.server.state?.backup_requests || [];
  $("backup-requests").hidden = requests.length === 0;
  const people = app.server.state?.roll_call.staff || [];
  $("backup-request-list").replaceChildren(...requests.map((request) => {
    const person = people.find((p) => p.staff_id === request.raised_by);
    const text = say(app.texts, "responder.request", {
      name: person ? person.name : "?", location: request.location,
    });
    const button = element("button", { type: "button" }, say(app.texts, "responder.answer"));
    button.onclick = () => app.server.act(
      say(app.texts, "responder.answer"),
      `/api/sites/${app.server.me.site}/backup-requests/${request.id}/answer`);
    return element("li", {}, element("p", {}, text), button);
  }));
}

// A new request: make sure the responder notices it.
export function backupRequested(app) {
  navigator.vibrate?.([300, 100, 300, 100, 300, 100, 300]);
  $("announcer").textContent = $("backup-request-list").textContent;
}
