// The enrollment page: the code in the link is used only when the person taps the button,
// so link previews and QR scanners cannot use it up.
import { $ } from "./dom.js";
import { applyTexts, pageTexts } from "./texts.js";

const { lang, texts } = await pageTexts(); // not signed in yet: no vocabulary
applyTexts(texts, lang);

const code = location.pathname.split("/").pop();
const status = $("status");
const button = $("enroll");

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = texts["enroll.working"];
  const response = await fetch("/api/enroll", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  const body = await response.json();
  if (response.ok) {
    status.textContent = `${texts["enroll.done"]} ${body.name}`;
    // Keep a language the person chose here; otherwise the app uses the one set for them.
    const chosen = new URLSearchParams(location.search).has("lang");
    location.assign(chosen ? `/?lang=${lang}` : "/");

  } else {
    status.textContent = body.detail;
    button.disabled = false;
  }
});
button.disabled = false; // ready: a tap before this would have been lost

