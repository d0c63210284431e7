// Enrollment for duty managers and admins: a new single-use link per person, as a QR code
// to scan from the screen or from a printout.
import { applyTexts, chosenLanguage, loadTexts, say } from "./texts.js";

const lang = chosenLanguage();
const texts = await loadTexts(lang);
applyTexts(texts, lang);

const me = await (await fetch("/api/me")).json();
const status = document.getElementById("admin-status");

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
  const qr = document.createElement("div");
  qr.className = "qr";
  qr.innerHTML = body.qr_svg; // SVG made by the server from the link alone
  const link = document.createElement("p");
  link.textContent = say(texts, "admin.valid_until", { url: body.url, until: body.expires_at });
  slot.replaceChildren(qr, link);
}

if (!me.csrf_token) {
  status.textContent = say(texts, "signin.explain");
} else {
  const state = await (await fetch(`/api/sites/${me.site}/state`)).json();
  document.getElementById("people").replaceChildren(...state.roll_call.staff.map((person) => {
    const item = document.createElement("li");
    item.className = "person";
    const name = document.createElement("h2");
    name.textContent = `${person.name} (${person.role})`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = say(texts, "admin.new_link");
    const slot = document.createElement("div");
    button.onclick = () => makeLink(person, slot);
    item.append(name, button, slot);
    return item;
  }));
}
