// Enrollment for duty managers and admins: a new single-use link per person, as a QR code
// to scan from the screen or from a printout.
import { $, element } from "./dom.js";
import { loadVocabulary } from "./model.js";
import { applyTexts, pageTexts, say } from "./texts.js";

const { lang, texts } = await pageTexts((await loadVocabulary())?.languages);
applyTexts(texts, lang);

const me = await (await fetch("/api/me")).json();
const status = $("admin-status");

async function makeLink(person, slot) {
  const response = await fetch(`/api/sites/${me.site}/staff/${person.staff_id}/enrollment-links`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
    body: "{}",
  });
  const body = await response.json();
  if (!response.ok) {
    status.textContent = body.detail;
    return;
  }
  const qr = element("div", { className: "qr", innerHTML: body.qr_svg }); // SVG made by the server from the link alone
  const link = element("p", {}, say(texts, "admin.valid_until", { url: body.url, until: body.expires_at }));
  slot.replaceChildren(qr, link);
}

if (!me.csrf_token) {
  status.textContent = say(texts, "signin.explain");
} else {
  const state = await (await fetch(`/api/sites/${me.site}/state`)).json();
  $("people").replaceChildren(...state.roll_call.staff.map((person) => {
    const slot = element("div");
    const button = element("button", { type: "button", onclick: () => makeLink(person, slot) },
                           say(texts, "admin.new_link"));
    return element("li", { className: "person" },
                   element("h2", {}, `${person.name} (${person.role})`), button, slot);
  }));
}
