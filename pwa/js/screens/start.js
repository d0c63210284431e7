// The duty manager's start screen: one button per kind. A tap only arms it; the panel that
// then appears away from the tap names what will happen ("Start a REAL fire evacuation"),
// with the drill switch beside it, off again for every new choice. Starting is sent at once,
// never kept for later: an evacuation must not start by surprise when a connection returns.
import { $, element } from "../dom.js";
import { Arming } from "../deliberate.js";
import { say } from "../texts.js";

// "14:30" today (or tomorrow, if that has passed) as ISO 8601 UTC.
export function etaFrom(input) {
  if (!input.value) return null;
  const [hours, minutes] = input.value.split(":").map(Number);
  const eta = new Date();
  eta.setHours(hours, minutes, 0, 0);
  if (eta < new Date()) eta.setDate(eta.getDate() + 1);
  return eta.toISOString();
}

export function renderConsoleStart(app) {
  $("setup-link").hidden = app.server.me.role !== "admin";
  renderArmed(app, app.starting?.value ?? null);
}

function renderArmed(app, kind) {
  for (const button of $("kinds").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.kind === kind));
  }
  if (!kind) return;
  const drill = $("start-drill").checked;
  $("start-confirm").textContent = say(app.texts, `console.start.${drill ? "drill" : "real"}.${kind}`);
  $("start-panel").classList.toggle("is-drill", drill);
}

export function wireStart(app) {
  app.starting = new Arming(app, "start-panel", (kind) => renderArmed(app, kind));
  $("kinds").append(...app.vocabulary.kinds.map((kind) => {
    const button = element("button", { type: "button" }, say(app.texts, `kind.${kind}`));
    button.dataset.kind = kind;
    button.onclick = (event) => {
      if (app.starting.value !== kind) $("start-drill").checked = false; // decided afresh
      app.starting.arm(kind, event);
    };
    return button;
  }));
  $("start-drill").onchange = () => renderArmed(app, app.starting.value);
  $("start-cancel").onclick = () => app.starting.disarm();
  $("start-confirm").onclick = () => start(app);
}

function start(app) {
  const drill = $("start-drill").checked;
  const kind = app.starting.take();
  if (!kind) return;
  $("start-drill").checked = false;
  const body = { kind, drill };
  const message = $("start-message").value.trim();
  const eta = etaFrom($("start-eta"));
  if (message) body.message = message;
  if (eta && !drill) body.eta = eta; // a drill leaves the public notices alone
  app.server.send_now(`/api/sites/${app.server.me.site}/incidents`, body,
                      say(app.texts, "action.start"));
}
