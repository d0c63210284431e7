// The interface's sentences come from /pwa/texts/<lang>.json; nothing here is translated by hand.
export const LANGUAGES = ["fi", "sv", "en"];

export function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGUAGES.includes(asked)) return asked;
  const preferred = (navigator.languages || [navigator.language]).map((l) => l.slice(0, 2));
  return preferred.find((l) => LANGUAGES.includes(l)) || "en";
}

export async function loadTexts(lang) {
  const response = await fetch(`/pwa/texts/${lang}.json`);
  return response.json();
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
