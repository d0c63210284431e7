// Phone readiness before the day, on the duty manager's console: "42 of 45 phones ready", the
// others named with why, and a test alarm (silent to the site) to everyone or to one person.
// The list is read again when a test alarm is answered or a push is answered.
import { $, element } from "../dom.js";
import { say } from "../texts.js";
import { renderMailboxReadiness } from "./mailboxes.js";
import { momentOf } from "../when.js";

const CHANGES = ["test_alarm.sent", "test_alarm.answered", "push.sent", "push.subscribed",
                 "push.expired", "device.enrolled"];

// "klo 10.00" today, with the date on another day: as every other screen says a moment.
function clock(app, iso) {
  return momentOf(iso, app.texts, app.server.state?.site.timezone);
}

export async function renderReadiness(app) {
  const response = await fetch(`/api/sites/${app.server.me.site}/readiness`, { cache: "no-store" })
    .catch(() => null);
  if (!response?.ok) return;
  const readiness = await response.json();
  const category = new Intl.PluralRules(app.lang).select(readiness.total);
  $("readiness-summary").textContent = say(app.texts, `readiness.summary.${category}`, readiness);
  $("readiness-people").replaceChildren(
    ...readiness.people.filter((person) => !person.ready).map((person) => personItem(app, person)));
  renderMailboxReadiness(app, readiness.mailboxes);
}

function personItem(app, person) {
  const reasons = new Intl.ListFormat(app.lang, { type: "conjunction" }).format(
    person.reasons.map((reason) => say(app.texts, `readiness.reason.${reason}`,
                                       { status: person.push?.status ?? "" })));
  const seen = person.connected ? say(app.texts, "readiness.connected_now")
    : person.last_connected ? say(app.texts, "readiness.last_connected",
                                  { time: clock(app, person.last_connected) })
      : say(app.texts, "readiness.never_connected");
  const item = element("li", { className: "not-ready" },
                       `${say(app.texts, "readiness.person", { name: person.name, reasons, seen })} `);
  item.dataset.staffId = String(person.staff_id);
  if (person.subscriptions) {
    const test = element("button", { type: "button" }, say(app.texts, "readiness.test_one"));
    test.onclick = () => sendTest(app, { staff_id: person.staff_id });
    item.append(test);
  }
  return item;
}

function sendTest(app, body) {
  return app.server.send_now(`/api/sites/${app.server.me.site}/test-alarms`, body,
                             say(app.texts, "readiness.test_label"));
}

export function wireReadiness(app) {
  $("test-alarm-all").onclick = () => sendTest(app, {});
  let planned = null;
  app.server.addEventListener("event", ({ detail }) => {
    if (!CHANGES.includes(detail.type) || planned) return;
    planned = setTimeout(() => { planned = null; renderReadiness(app); }, 500);  // a crowd's answers at once
  });
  app.server.addEventListener("state", () => renderReadiness(app));
  // A test alarm left unanswered counts only after a while, with no event to say so.
  setInterval(() => renderReadiness(app), 60_000);
  renderReadiness(app);
}
