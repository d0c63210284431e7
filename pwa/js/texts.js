// The interface's sentences come from /pwa/texts/<lang>.json; nothing here is translated by hand.
// Which languages there are is the server's to say (`languages` of GET /api/vocabulary).

export async function loadTexts(lang) {
  const response = await fetch(`/pwa/texts/${lang}.json`);
  return response.json();
}

// A page's language and sentences: ?lang=, else the person's own, else the first of the browser's languages among
// `languages`, else English. A page shown before signing in (enrollment) has no list yet: it
// takes the first of them that the app has sentences for.
// `theirs`: the language set for the person, when the page knows who it is for.
export async function pageTexts(languages, theirs = null) {
  const asked = new URLSearchParams(location.search).get("lang");
  const preferred = (navigator.languages || [navigator.language]).map((l) => l.slice(0, 2));
  const wanted = [asked, theirs, ...preferred, "en"]
    .filter((lang) => /^[a-z]{2}$/.test(lang) && (!languages || languages.includes(lang)));
  for (const lang of new Set(wanted)) {
    const response = await fetch(`/pwa/texts/${lang}.json`).catch(() => null);
    if (response?.ok) return { lang, texts: await response.json() };
  }
  return { lang: "en", texts: {} };
}

// Fill every element that names a text key in data-text.
export function applyTexts(texts, lang) {
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll("[data-text]")) {
    const text = texts[element.dataset.text];
    if (text) element.textContent = text;
  }
}

// A sentence with its {placeholders} filled in.
export function say(texts, key, values = {}) {
  return (texts[key] || key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

// A sentence about a number, in the form the language's plural rules choose for `count`
// (key.one, key.other, ...): "1 zone", "3 zones"; Finnish "1 alue", "3 aluetta".
export function sayCount(texts, lang, key, count, values = {}) {
  const form = new Intl.PluralRules(lang).select(count);
  const chosen = texts[`${key}.${form}`] !== undefined ? `${key}.${form}` : `${key}.other`;
  return say(texts, chosen, { count, ...values });
}
