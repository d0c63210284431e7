// Staff phones after the all-clear: it stays on the screen, with its reason (resolved, false
// alarm, drill over), until the person taps OK; it is not lost to a reload either.
import { $ } from "../dom.js";
import * as store from "../store.js";
import { say } from "../texts.js";
import { timeOf } from "../when.js";

// `incident`: the one that ended, as this phone knew it; `event`: its incident.ended.
export function allClearArrived(app, incident, event) {
  app.allClear = { incident_id: event.payload.incident_id, reason: event.payload.reason,
                   kind: incident?.kind, drill: Boolean(incident?.drill), ended_at: event.ts };
  app.showingCustomer = false;
  store.put("allclear", app.allClear);
  $("announcer").textContent = `${say(app.texts, "allclear.title")}. ${
    say(app.texts, `allclear.reason.${app.allClear.reason}`)}`;
}

export function renderAllClear(app) {
  const notice = app.allClear;
  const script = app.scripts?.scripts[app.lang]?.[notice.kind];
  const kind = script?.title || say(app.texts, `kind.${notice.kind}`);
  $("allclear-kind").textContent = notice.drill ? say(app.texts, "allclear.drill", { kind }) : kind;
  $("screen-allclear").classList.toggle("is-drill", notice.drill);
  $("allclear-reason").textContent = say(app.texts, `allclear.reason.${notice.reason}`);
  $("allclear-when").textContent = say(app.texts, "allclear.ended", {
    time: timeOf(notice.ended_at, app.texts, app.server.state?.site.timezone),
  });
}

export async function wireAllClear(app) {
  app.allClear = await store.get("allclear");
  $("allclear-dismiss").onclick = () => {
    app.allClear = null;
    store.put("allclear", null);
    app.render();
  };
}
