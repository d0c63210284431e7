// Site set-up for admins: zones, staff, public-channel settings, the public notice and the
// customer script per kind and language. The page edits a copy of the site's set-up file and
// saves it whole, through the same checks as `flask site-import`.
import { $, element } from "./dom.js";
import { loadVocabulary } from "./model.js";
import { applyTexts, pageTexts, say } from "./texts.js";

// Languages (with their names), roles and kinds are the server's words (GET /api/vocabulary).
const vocabulary = await loadVocabulary();
const { lang, texts } = await pageTexts(vocabulary?.languages);
applyTexts(texts, lang);

const me = await (await fetch("/api/me")).json();
let model, defaults;

// A labelled input bound to `object[key]`; `read` turns the input's value into the stored one.
function bound(labelKey, object, key, { type = "text", read = (v) => v, show = (v) => v ?? "",
                                        attributes = {}, labelText } = {}) {
  const input = element(type === "textarea" ? "textarea" : "input", attributes);
  if (type === "checkbox") {
    input.type = "checkbox";
    input.checked = Boolean(object[key]);
    input.onchange = () => { object[key] = input.checked; };
  } else {
    if (type !== "textarea") input.type = type;
    input.value = show(object[key]);
    input.oninput = () => { object[key] = read(input.value); };
  }
  return element("label", {}, labelText ?? say(texts, labelKey), input);
}

function choice(labelKey, object, key, options) {
  const select = element("select", { onchange: () => { object[key] = select.value || null; } },
    ...options.map(([value, text]) => element("option", { value, textContent: text })));
  select.value = object[key] ?? "";
  return element("label", {}, say(texts, labelKey), select);
}

function removeButton(list, index) {
  return element("button", { type: "button", textContent: say(texts, "setup.remove"),
                             onclick: () => { list.splice(index, 1); render(); } });
}

function renderSite() {
  const languages = element("fieldset", {}, element("legend", { textContent: say(texts, "setup.languages") }),
    ...vocabulary.languages.map((code) => {
      const box = element("input", { type: "checkbox", checked: model.languages.includes(code) });
      box.onchange = () => {
        model.languages = vocabulary.languages
          .filter((c) => (c === code ? box.checked : model.languages.includes(c)));
        render();
      };
      return element("label", { className: "switch", lang: code }, box, vocabulary.language_names[code]);
    }));
  $("site-fields").replaceChildren(bound("setup.name", model, "name"),
    bound("setup.timezone", model, "timezone"), languages);
}

function renderZones() {
  const exits = { read: (v) => v.split(",").map((e) => e.trim()).filter(Boolean), show: (v) => (v || []).join(", ") };
  $("zones").replaceChildren(...model.zones.map((zone, index) => element("fieldset", { className: "card" },
    element("legend", { textContent: zone.name || say(texts, "setup.new_zone") }),
    bound("setup.zone_id", zone, "id", { attributes: { readOnly: zone.saved, required: true } }),
    bound("setup.zone_name", zone, "name", { attributes: { required: true } }),
    bound("setup.exits", zone, "exits", exits),
    bound("setup.assembly", zone, "assembly_point", { attributes: { required: true } }),
    removeButton(model.zones, index))));
}

function renderStaff() {
  const roles = vocabulary.roles.map((role) => [role, say(texts, `setup.role_${role}`)]);
  const zones = [["", "–"], ...model.zones.map((z) => [z.id, z.name || z.id])];
  const languages = vocabulary.languages.map((code) => [code, vocabulary.language_names[code]]);
  $("staff").replaceChildren(...model.staff.map((person, index) => element("fieldset", { className: "card" },
    element("legend", { textContent: person.name || say(texts, "setup.new_person") }),
    person.saved ? "" : bound("setup.staff_name", person, "name", { attributes: { required: true } }),
    choice("setup.role", person, "role", roles),
    choice("setup.home_zone", person, "home_zone", zones),
    choice("setup.language", person, "language", languages),
    person.saved ? "" : removeButton(model.staff, index))));
}

function renderChannels() {
  const notices = model.notices;
  $("channels").replaceChildren(
    bound("setup.public_on_drill", notices, "public_on_drill", { type: "checkbox" }),
    bound("setup.restored_minutes", notices, "restored_minutes",
          { type: "number", read: Number, attributes: { min: 0, max: 1440 } }),
    choice("setup.phone_when_closed", notices, "phone_when_closed",
           [["hangup", say(texts, "setup.hangup")], ["voicemail", say(texts, "setup.voicemail")]]),
    bound("setup.phone_open_redirect", notices, "phone_open_redirect", { type: "url" }),
    bound("setup.screen_normal_url", notices, "screen_normal_url", { type: "url" }));
}

// One text box per kind and language, holding the site's own wording or else the default.
function renderTexts() {
  const names = vocabulary.language_names;
  $("notices").replaceChildren(element("p", { textContent: say(texts, "setup.placeholders") }),
    ...vocabulary.kinds.map((kind) => element("fieldset", {},
      element("legend", { textContent: say(texts, `kind.${kind}`) }),
      ...model.languages.flatMap((code) => [
        bound(null, model.closed[code][kind], "headline", { attributes: { lang: code },
          labelText: `${names[code]}: ${say(texts, "setup.headline")}` }),
        bound(null, model.closed[code][kind], "body", { type: "textarea", attributes: { lang: code, rows: 3 },
          labelText: `${names[code]}: ${say(texts, "setup.body")}` }),
      ]))));
  $("scripts").replaceChildren(...vocabulary.kinds.map((kind) => element("fieldset", {},
    element("legend", { textContent: say(texts, `kind.${kind}`) }),
    ...model.languages.flatMap((code) => [
      bound(null, model.scripts[code][kind], "title", { labelText: `${names[code]}: ${say(texts, "setup.script_title")}`,
                                                        attributes: { lang: code } }),
      bound(null, model.scripts[code][kind], "lines", {
        type: "textarea", labelText: `${names[code]}: ${say(texts, "setup.script_lines")}`,
        read: (v) => v.split("\n").map((l) => l.trim()).filter(Boolean), show: (v) => v.join("\n"),
        attributes: { lang: code, rows: 4 } }),
    ]))));
}

function render() {
  renderSite();
  renderZones();
  renderStaff();
  renderChannels();
  renderTexts();
}

// The set-up file keeps only wording that differs from the defaults, so that improved
// default texts still reach a site that never changed them.
function own(edited, standard) {
  return Object.fromEntries(Object.entries(edited)
    .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(standard[key])));
}

function toConfig() {
  const noticeTexts = structuredClone(model.notices.texts || {});
  const scripts = structuredClone(model.config_scripts);
  for (const code of vocabulary.languages) {
    const closed = own(model.closed[code], defaults.closed[code]);
    noticeTexts[code] = { ...noticeTexts[code], closed };
    if (!Object.keys(closed).length) delete noticeTexts[code].closed;
    if (!Object.keys(noticeTexts[code]).length) delete noticeTexts[code];
    scripts[code] = own(model.scripts[code], defaults.scripts[code]);
    if (!Object.keys(scripts[code]).length) delete scripts[code];
  }
  return {
    site: model.site, name: model.name, timezone: model.timezone, languages: model.languages,
    zones: model.zones.map(({ id, name, exits, assembly_point }) => ({ id, name, exits, assembly_point })),
    staff: model.staff.map(({ name, role, home_zone, language }) => ({ name, role, home_zone, language })),
    notices: { ...model.notices, texts: noticeTexts },
    scripts,
  };
}

// {lang: {kind: wording}}: the site's own wording over the default, as copies the form may edit.
function perKind(standard, ownOf) {
  return Object.fromEntries(vocabulary.languages.map((code) => [code,
    Object.fromEntries(vocabulary.kinds.map((kind) => [kind,
      structuredClone({ ...standard[code][kind], ...(ownOf(code)?.[kind] || {}) })]))]));
}

async function load() {
  const response = await fetch(`/api/sites/${me.site}/setup`);
  const body = await response.json();
  if (!response.ok) {
    $("setup-status").textContent = body.detail;
    return;
  }
  ({ defaults } = body);
  const config = body.config;
  const ownTexts = config.notices.texts || {};
  model = {
    ...config,
    notices: { ...defaults.notices, ...config.notices },
    zones: config.zones.map((zone) => ({ ...zone, saved: true })),
    staff: config.staff.map((person) => ({ ...person, saved: true })),
    config_scripts: config.scripts,
    closed: perKind(defaults.closed, (code) => ownTexts[code]?.closed),
    scripts: perKind(defaults.scripts, (code) => config.scripts[code]),
  };
  render();
  $("setup").hidden = false;
}

$("add-zone").onclick = () => {
  model.zones.push({ id: "", name: "", exits: [], assembly_point: "" });
  render();
  $("zones").lastElementChild.querySelector("input").focus();
};
$("add-person").onclick = () => {
  model.staff.push({ name: "", role: "staff", home_zone: null, language: lang });
  render();
  $("staff").lastElementChild.querySelector("input").focus();
};
$("setup").onsubmit = async (submitted) => {
  submitted.preventDefault();
  const response = await fetch(`/api/sites/${me.site}/setup`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
    body: JSON.stringify({ config: toConfig() }),
  }).catch(() => null);
  const body = await response?.json();
  $("setup-result").textContent = response?.ok
    ? say(texts, "setup.saved", { zones: body.zones, staff: body.staff })
    : body?.detail || say(texts, "connection.offline");
  if (response?.ok) await load();
};

if (!me.csrf_token) $("setup-status").textContent = say(texts, "signin.explain");
else await load();
