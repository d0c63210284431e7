// "Show to customer": the script in very large type; one tap switches its language.
import { $, element } from "../dom.js";
import { loadTexts } from "../texts.js";

export function renderCustomer(app) {
  const { scripts } = app;
  const screen = $("screen-customer");
  const incident = app.server.state.incident;
  const script = scripts.scripts[app.customerLang][incident.kind];
  screen.lang = app.customerLang;
  $("customer-title").textContent = script.title;
  // A drill says so to the customer too, in the customer's language.
  screen.classList.toggle("is-drill", Boolean(incident.drill));
  $("customer-drill").hidden = !incident.drill;
  $("customer-drill").textContent = (app.textsByLang?.[app.customerLang] || app.texts)["alarm.drill"];
  $("customer-lines").replaceChildren(...script.lines.map((line) => element("li", {}, line)));
  // "Go to the assembly point" says which: the exits and the place of the zone shown.
  const words = app.textsByLang?.[app.customerLang] || app.texts;
  const zone = app.zone;
  $("customer-way").hidden = !zone;
  if (zone) {
    $("customer-way").replaceChildren(
      element("p", {}, element("span", {}, words["zone.exits"]), " ", element("strong", {}, zone.exits.join(", "))),
      element("p", {}, element("span", {}, words["zone.assembly"]), " ", element("strong", {}, zone.assembly_point)));
  }
  $("customer-languages").replaceChildren(...scripts.languages.map((lang) => {
    const button = element("button", { type: "button", lang }, scripts.language_names[lang]);
    button.setAttribute("aria-pressed", String(lang === app.customerLang));
    button.onclick = () => {
      app.customerLang = lang;
      app.render();
    };
    return button;
  }));
}

export function wireCustomer(app) {
  // Every language's words, for the drill mark in the customer's language.
  app.textsByLang = { [app.lang]: app.texts };
  for (const lang of app.scripts?.languages || []) {
    if (!app.textsByLang[lang]) loadTexts(lang).then((texts) => { app.textsByLang[lang] = texts; }).catch(() => {});
  }
  $("customer-close").onclick = () => {
    app.showingCustomer = false;
    app.render();
  };
}
