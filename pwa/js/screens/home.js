// The normal screen: no alarm; who I am, my zone, languages (the backup card: backup.js).
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
  $("languages").replaceChildren(...(app.scripts?.languages || []).map((lang) => {
    const link = element("a", { href: `/?lang=${lang}`, lang, hreflang: lang },
                         app.scripts.language_names[lang]);
    if (lang === app.lang) link.setAttribute("aria-current", "true");
    return link;
  }));
}
