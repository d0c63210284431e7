// The reception desk (guard, duty manager, admin): sign a visitor or contractor in, and out
// again, any time; the list is who is on site now (GET /api/sites/<site>/visitors). Signing
// in and out goes through the outbox like any other action.
import { $, element } from "../dom.js";
import { phoneNumber } from "../phone.js";
import { say, sayCount } from "../texts.js";
import { timeOf } from "../when.js";

async function refresh(app) {
  const response = await fetch(`/api/sites/${app.server.me.site}/visitors`, { cache: "no-store" })
    .catch(() => null);
  if (!response?.ok) return;
  app.visitors = (await response.json()).visitors;
  if (app.showingReception) app.render();
}

export function renderReception(app) {
  const { texts, lang } = app;
  const visitors = app.visitors || [];
  $("reception-list-heading").textContent = sayCount(texts, lang, "reception.on_site", visitors.length);
  $("reception-list").replaceChildren(...visitors.map((visitor) => {
    const leave = element("button", { type: "button" }, say(texts, "reception.sign_out"));
    leave.setAttribute("aria-label", `${visitor.name}: ${say(texts, "reception.sign_out")}`);
    leave.onclick = () => {
      app.server.act(say(texts, "action.visitor_out", { name: visitor.name }),
                     `/api/sites/${app.server.me.site}/visitors/${visitor.visitor_id}/leave`, {},
                     `visitor-out-${visitor.visitor_id}`);
      app.visitors = app.visitors.filter((v) => v !== visitor); // gone from the desk's list at once
      app.render();
    };
    const since = say(texts, "reception.since", {
      time: timeOf(visitor.signed_in_at, texts, app.server.state?.site.timezone),
    });
    const company = visitor.company ? `, ${visitor.company}` : "";
    return element("li", {}, element("p", {}, element("strong", {}, visitor.name), `${company}. ${since}`), leave);
  }));
}

function fillChoices(app) {
  const { vocabulary } = app;
  $("reception-language").replaceChildren(...vocabulary.languages.map((code) =>
    element("option", { value: code, selected: code === app.lang }, vocabulary.language_names[code])));
  const staff = app.server.state?.roll_call.staff || [];
  $("reception-host").replaceChildren(element("option", { value: "" }, "–"),
    ...staff.map((person) => element("option", { value: String(person.staff_id) }, person.name)));
}

function signIn(app) {
  const { texts } = app;
  const name = $("reception-name").value.trim();
  const typedPhone = $("reception-phone").value.trim();
  const phone = typedPhone ? phoneNumber(typedPhone) : null;
  const wrong = !name ? "reception-name" : typedPhone && !phone ? "reception-phone" : null;
  for (const id of ["reception-name", "reception-phone"]) $(id).toggleAttribute("aria-invalid", id === wrong);
  if (wrong) {
    $("reception-result").textContent = say(texts, wrong === "reception-name" ? "visit.error.name" : "visit.error.phone");
    return $(wrong).focus();
  }
  const body = { name, language: $("reception-language").value };
  const company = $("reception-company").value.trim();
  if (company) body.company = company;
  if (phone) body.phone = phone;
  if ($("reception-host").value) body.host_staff_id = Number($("reception-host").value);
  app.server.act(say(texts, "action.visitor_in", { name }), `/api/sites/${app.server.me.site}/visitors`,
                 body, `visitor-in-${crypto.randomUUID()}`);
  $("reception-result").textContent = say(texts, "reception.signed_in", { name });
  for (const id of ["reception-name", "reception-company", "reception-phone"]) $(id).value = "";
  $("reception-name").focus();
}

export function wireReception(app) {
  for (const button of document.querySelectorAll(".open-reception")) {
    button.onclick = () => {
      app.showingReception = true;
      fillChoices(app);
      app.render();
      scrollTo(0, 0);
      refresh(app);
    };
  }
  $("reception-close").onclick = () => {
    app.showingReception = false;
    app.render();
  };
  $("reception-form").onsubmit = (event) => {
    event.preventDefault();
    signIn(app);
  };
  // Someone signed in or out (here, at another desk, or at the entrance): the list follows.
  app.server.addEventListener("event", ({ detail }) => {
    if (app.showingReception && detail.type?.startsWith("visitor.")) refresh(app);
  });
  app.server.addEventListener("done", ({ detail }) => {
    if (app.showingReception && detail.key?.startsWith("visitor-")) refresh(app);
  });
}
