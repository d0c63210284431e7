// The language of an admin's page (set-up, enrollment): ?lang= first, else the language the
// person chose in the app (GET /api/me), else the browser's (texts.js pageTexts).
import { loadTexts, pageTexts } from "./texts.js";

export async function personTexts(me, languages) {
  const asked = new URLSearchParams(location.search).get("lang");
  const lang = [asked, me?.language].find((code) => code && (!languages || languages.includes(code)));
  return lang ? { lang, texts: await loadTexts(lang) } : pageTexts(languages);
}
