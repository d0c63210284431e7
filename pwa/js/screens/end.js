// The all-clear on the console. A tap on a reason only arms it; the panel that then appears
// away from the tap first says what is still open (the zones not swept clear, by name, and
// the help requests), then names what will happen ("Give the all-clear: false alarm"). A drill
// ends as a drill, a real alarm with a real reason. Sent at once, never kept for later.
import { $, element } from "../dom.js";
import { Arming } from "../deliberate.js";
import { say, sayCount } from "../texts.js";

export function renderEnd(app) {
  const incident = app.server.state.incident;
  for (const button of $("reasons").querySelectorAll("button")) {
    button.hidden = (button.dataset.reason === "drill_over") !== Boolean(incident.drill);
    button.setAttribute("aria-pressed", String(button.dataset.reason === app.ending.value));
  }
  if (app.ending.value) renderStillOpen(app, app.ending.value);
}

function renderStillOpen(app, reason) {
  const { texts, lang } = app;
  const { zones, help_requests: help } = app.server.state;
  const unchecked = zones.filter((zone) => zone.sweep !== "clear");
  const lines = [];
  if (unchecked.length) {
    lines.push(sayCount(texts, lang, "console.allclear.zones", unchecked.length, {
      zones: new Intl.ListFormat(lang, { type: "conjunction" }).format(unchecked.map((z) => z.name)),
    }));
  }
  if (help.length) lines.push(sayCount(texts, lang, "console.allclear.help", help.length));
  if (!lines.length) lines.push(say(texts, "console.allclear.all_done"));
  $("allclear-warning").replaceChildren(...lines.map((line) => element("li", {}, line)));
  $("allclear-warning").classList.toggle("all-done", !unchecked.length && !help.length);
  $("allclear-confirm").textContent = say(texts, `console.end.${reason}`);
}

export function wireEnd(app) {
  app.ending = new Arming(app, "allclear-panel", () => app.render());
  $("reasons").append(...app.vocabulary.end_reasons.map((reason) => {
    const button = element("button", { type: "button" }, say(app.texts, `console.reason.${reason}`));
    button.dataset.reason = reason;
    button.onclick = (event) => app.ending.arm(reason, event);
    return button;
  }));
  $("allclear-cancel").onclick = () => app.ending.disarm();
  $("allclear-confirm").onclick = () => {
    const reason = app.ending.take();
    if (!reason) return;
    app.server.send_now(`/api/sites/${app.server.me.site}/incidents/current/all-clear`,
                        { reason }, say(app.texts, "action.all_clear"));
  };
}
