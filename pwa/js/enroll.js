// The enrollment page: says whose link it is, in that person's language, and uses the code
// only when the person taps the button, so link previews and QR scanners cannot use it up.
// Every outcome is said in the page's language from the answer's status and `reason`, never
// the server's English detail.
import { $ } from "./dom.js";
import { needsHomeScreen } from "./device.js";
import { applyTexts, pageTexts, say, sayCount } from "./texts.js";

const code = location.pathname.split("/").pop();
const status = $("status");
const button = $("enroll");

// Whose link: the person's name and language, or why it cannot be used (nothing is used up).
const peek = await fetch(`/api/enroll/${encodeURIComponent(code)}`).catch(() => null);
const link = peek ? await peek.json().catch(() => ({})) : {};
const { lang, texts } = await pageTexts(null, peek?.ok ? link.language : null);
applyTexts(texts, lang);

function problem(response, body) {
  if (!response) return "enroll.error.offline";
  if (response.status === 410) return body.reason === "expired" ? "enroll.error.expired" : "enroll.error.used";
  if (response.status === 404) return "enroll.error.unknown";
  if (response.status === 429) return "enroll.error.too_many";
  return "enroll.error.failed";
}

if (peek?.ok) {
  $("whose").textContent = say(texts, "enroll.for", { name: link.name, site: link.site_name });
  $("home-screen").hidden = !needsHomeScreen();
  tellAboutData(link.privacy);
  button.disabled = false; // ready: a tap before this would have been lost
} else {
  status.textContent = say(texts, problem(peek, link));
  button.hidden = true;
}

// Before the phone is enrolled, the person is told what is kept about them, why, for how
// long and by whom (GDPR Art. 13), in their language: the site file's `privacy`.
function tellAboutData(privacy) {
  if (!privacy) return;
  if (privacy.controller) {
    $("privacy-controller").textContent = say(texts, "enroll.privacy.controller", privacy);
    $("privacy-controller").hidden = false;
  }
  $("privacy-notes").textContent = sayCount(texts, lang, "enroll.privacy.notes", privacy.incidents_days);
  $("privacy-devices").textContent = sayCount(texts, lang, "enroll.privacy.devices", privacy.devices_days);
  if (privacy.notice_url) {
    $("privacy-link").href = privacy.notice_url;
    $("privacy-more").hidden = false;
  }
  $("privacy").hidden = false;
}

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = texts["enroll.working"];
  const response = await fetch("/api/enroll", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  }).catch(() => null);
  const body = response ? await response.json().catch(() => ({})) : {};
  if (response?.ok) {
    status.textContent = `${texts["enroll.done"]} ${body.name}`;
    // Keep a language the person chose here; otherwise the app uses the one set for them.
    const chosen = new URLSearchParams(location.search).has("lang");
    location.assign(chosen ? `/?lang=${lang}` : "/");
  } else {
    status.textContent = say(texts, problem(response, body));
    button.disabled = response === null; // offline: try again; a link that cannot work: no
  }
});
