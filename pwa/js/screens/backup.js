// Asking for backup, on the home and the alarm screens: sent and waiting for an answer, then
// who is on the way. A staff phone reads no backup events (a threatened cashier's request is
// for responders only), so it learns the answer from its own `my_backup_request` in the state.
import { $ } from "../dom.js";
import * as store from "../store.js";
import { say, sayCount } from "../texts.js";

export function renderBackup(app, shown) {
  $("backup").hidden = !shown;
  if (!shown) return;
  const { state, me } = app.server;
  const zone = app.zone || state?.zones.find((z) => z.id === me.home_zone);
  if (!$("backup-location").value && zone) $("backup-location").value = zone.name;
  const mine = app.backup;
  const waiting = Boolean(mine && !mine.outcome);
  const answered = mine?.outcome === "answered" && app.backupSeen !== mine.id;
  $("backup-ask").hidden = waiting || answered;
  $("backup-active").hidden = !waiting;
  if (waiting) $("backup-sent-text").textContent = waitingWords(app, mine);
  $("backup-answered").hidden = !answered;
  if (answered) {
    $("backup-answered-text").textContent = say(app.texts, "backup.answered",
                                                { name: mine.ended_by_name || "?" });
  }
  if (waiting || answered) $("backup").open = true;
}

// Whose phones the request reaches, as the server counted them: never "sent to the guard"
// when the guard has no phone.
function whoGets(reaches) {
  if (!reaches) return "both";
  if (reaches.guards && reaches.managers) return "both";
  return reaches.guards ? "guard" : reaches.managers ? "manager" : "nobody";
}

// Sent to whom, and who said they cannot come; when everyone it reached has, say so plainly.
function waitingWords(app, mine) {
  const sent = say(app.texts, `backup.sent.${whoGets(mine.reaches)}`);
  const declined = mine.declined || [];
  if (!declined.length) return sent;
  const reachable = mine.reaches ? mine.reaches.guards + mine.reaches.managers : Infinity;
  if (declined.length >= reachable) return say(app.texts, "backup.nobody_coming");
  const names = new Intl.ListFormat(app.lang, { type: "conjunction" }).format(declined);
  return `${sent} ${sayCount(app.texts, app.lang, "backup.declined", declined.length, { names })}`;
}

// What the state says of my request (staff phones), or what a responder's events said.
export function backupFromState(app, state) {
  if ("my_backup_request" in state) app.backup = state.my_backup_request;
  else if (app.backup && !app.backup.outcome) {
    app.backup = state.backup_requests?.find((b) => b.id === app.backup.id) || app.backup;
  }
}

// An event this phone may not read could be the answer to my request: ask the server.
export async function checkBackup(app) {
  if (!app.backup || app.backup.outcome) return;
  const response = await fetch(`/api/sites/${app.server.me.site}/state`, { cache: "no-store" })
    .catch(() => null);
  if (!response?.ok) return;
  backupFromState(app, await response.json());
  app.render();
}

// A responder's own request, answered (responders read backup events).
export function backupAnswered(app, event) {
  if (app.backup?.id !== event.payload.backup_id) return;
  app.backup = { ...app.backup, outcome: "answered", ended_by_name: event.actor.name };
}

export async function wireBackup(app) {
  const site = () => `/api/sites/${app.server.me.site}`;
  app.backupSeen = await store.get("backup_seen");
  $("backup-send").onclick = () => {
    const location = $("backup-location").value.trim() || "?";
    app.server.act(say(app.texts, "action.backup"), `${site()}/backup-requests`, { location });
  };
  $("backup-cancel").onclick = () => {
    app.server.act(say(app.texts, "action.backup_cancel"),
                   `${site()}/backup-requests/${app.backup.id}/cancel`);
    app.backup = null;
    app.render();
  };
  $("backup-answered-ok").onclick = () => {
    app.backupSeen = app.backup?.id;
    store.put("backup_seen", app.backupSeen);
    $("backup").open = false;
    app.render();
  };
  app.server.addEventListener("done", ({ detail }) => {
    const request = detail.result?.backup_request;
    if (request && request.raised_by === app.server.me.staff_id) {
      app.backup = request;
      app.render();
    }
  });
}
