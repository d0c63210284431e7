// Enrollment for duty managers and admins: everyone of the site with their role in plain
// words and whether they already have a phone (GET /api/sites/<site>/readiness), and a new
// single-use link per person, as a QR code to scan from the screen or from a printout.
import { $, element } from "./dom.js";
import { loadVocabulary } from "./model.js";
import { personTexts } from "./pagelang.js";
import { applyTexts, say } from "./texts.js";
import { momentOf } from "./when.js";

const me = await (await fetch("/api/me")).json();
const vocabulary = await loadVocabulary();
const { lang, texts } = await personTexts(me, vocabulary?.languages);
applyTexts(texts, lang);
const status = $("admin-status");
let timeZone;

async function makeLink(person, slot) {
  const response = await fetch(`/api/sites/${me.site}/staff/${person.staff_id}/enrollment-links`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
    body: "{}",
  }).catch(() => null);
  const body = await response?.json().catch(() => null);
  if (!response?.ok) {
    status.textContent = say(texts, response?.status === 403 ? "admin.not_allowed" : "connection.offline");
    return;
  }
  const qr = element("div", { className: "qr", innerHTML: body.qr_svg }); // SVG made by the server from the link alone
  const until = momentOf(body.expires_at, texts, timeZone);
  slot.replaceChildren(qr, element("p", { className: "link" }, body.url),
                       element("p", {}, say(texts, "admin.link_until", { until })));
}

// Whether the person has a phone with the app, and when it was last heard from.
function phoneOf(person) {
  if (!person.enrolled) return say(texts, "admin.phone_no");
  const seen = person.connected ? say(texts, "admin.connected")
    : person.last_connected ? say(texts, "admin.last_seen", { when: momentOf(person.last_connected, texts, timeZone) })
      : "";
  return [say(texts, "admin.phone_yes"), seen].filter(Boolean).join(" ");
}

if (!me.csrf_token) {
  status.textContent = say(texts, "signin.explain");
} else {
  const state = await (await fetch(`/api/sites/${me.site}/state`)).json();
  timeZone = state.site.timezone;
  const readiness = await fetch(`/api/sites/${me.site}/readiness`).then((r) => (r.ok ? r.json() : null));
  const people = readiness?.people ?? state.roll_call.staff.map((person) => ({ ...person, enrolled: person.enrolled ?? null }));
  $("people").replaceChildren(...people.map((person) => {
    const slot = element("div");
    const button = element("button", { type: "button", onclick: () => makeLink(person, slot) },
                           say(texts, "admin.new_link"));
    const phone = person.enrolled === null ? "" : element("p", { className: person.enrolled ? "phone yes" : "phone no" }, phoneOf(person));
    return element("li", { className: "person" },
                   element("h2", {}, person.name),
                   element("p", { className: "role" }, say(texts, `setup.role_${person.role}`)),
                   phone, button, slot);
  }));
}
