// "Show to customer": the script in very large type; one tap switches its language.
import { $, element } from "../dom.js";

export function renderCustomer(app) {
  const { scripts } = app;
  const kind = app.server.state.incident.kind;
  const script = scripts.scripts[app.customerLang][kind];
  const screen = $("screen-customer");
  screen.lang = app.customerLang;
  $("customer-title").textContent = script.title;
  $("customer-lines").replaceChildren(...script.lines.map((line) => element("li", {}, line)));
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
  $("customer-close").onclick = () => {
    app.showingCustomer = false;
    app.render();
  };
}
