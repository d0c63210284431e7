// The normal screen: no alarm; who I am, my zone, languages, and the discreet backup button.
import { $, element } from "../dom.js";
import { say } from "../texts.js";


export function renderHome(app) {
  const { state, me } = app.server;
  const zone = state?.zones.find((z) => z.id === me.home_zone);
  $("home-state").textContent = say(app.texts, "home.open");
  $("home-who").textContent = say(app.texts, "home.who", { name: me.name });
  if (!state) {
    $("home-zone").textContent = ""; // the zones arrive with the first state
  } else {
    $("home-zone").textContent = zone
      ? say(app.texts, "home.zone", { zone: zone.name })
      : say(app.texts, "home.no_zone");
  }

  if (!$("backup-location").value && zone) $("backup-location").value = zone.name;
  $("backup-ask").hidden = Boolean(app.backupId);
  $("backup-active").hidden = !app.backupId;
  $("languages").replaceChildren(...(app.scripts?.languages || []).map((lang) => {
    const link = element("a", { href: `/?lang=${lang}`, lang, hreflang: lang },
                         app.scripts.language_names[lang]);
    if (lang === app.lang) link.setAttribute("aria-current", "true");
    return link;
  }));
}

export function wireHome(app) {
  const site = () => `/api/sites/${app.server.me.site}`;
  $("backup-send").onclick = () => {
    const location = $("backup-location").value.trim() || "?";
    app.server.act(say(app.texts, "action.backup"), `${site()}/backup-requests`, { location });
  };
  $("backup-cancel").onclick = () => {
    app.server.act(say(app.texts, "action.backup_cancel"),
                   `${site()}/backup-requests/${app.backupId}/cancel`);
    app.backupId = null;
    app.render();
  };
  app.server.addEventListener("done", ({ detail }) => {
    if (detail.result.backup_request && !detail.result.backup_request.ended_at) {
      app.backupId = detail.result.backup_request.id;
      app.render();
    }
  });
}
