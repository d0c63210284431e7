// Site set-up for admins: the site, zones, staff, public-channel settings, the public notice
// and the customer script per kind and language, each section saved on its own. The server
// takes the whole set-up file (the same checks as `flask site-import`), so a section is sent
// as the saved set-up with only that section changed; a mistake is shown beside its field, in
// the admin's language, from the field path the server names.
import { $, element } from "./dom.js";
import { fitWords } from "./fit.js";
import { loadVocabulary } from "./model.js";
import { personTexts } from "./pagelang.js";
import { applyTexts, say } from "./texts.js";
import { momentOf } from "./when.js";

// Languages (with their names), roles and kinds are the server's words (GET /api/vocabulary).
const vocabulary = await loadVocabulary();
const me = await (await fetch("/api/me")).json();
const { lang, texts } = await personTexts(me, vocabulary?.languages);
applyTexts(texts, lang);

let model, saved, defaults;

// Which translated message a mistake in a field gets, by the field's path in the set-up file
// (the rules are server/commands/site_config.py's).
const FIELD_ERRORS = [
  [/^name$/, "setup.error.name"],
  [/^timezone$/, "setup.error.timezone"],
  [/^languages/, "setup.error.languages"],
  [/^zones\[\d+\]\.id$/, "setup.error.zone_id"],
  [/^assembly_points\[\d+\]\.id$/, "setup.error.point_id"],
  [/^assembly_points\[\d+\]\.(name|where)$/, "setup.error.required"],
  [/^zones\[\d+\]\.exits/, "setup.error.exits"],
  [/^(zones|staff)\[\d+\]\.(name|assembly_point)$/, "setup.error.required"],
  [/^staff\[\d+\]\.(role|home_zone|language)$/, "setup.error.choice"],
  [/^notices\.restored_minutes$/, "setup.error.minutes"],
  [/^notices\.email\[\d+\]\.provider$/, "setup.error.choice"],
  [/^notices\.email\[\d+\]\.mailbox$/, "setup.error.mailbox"],
  [/^notices\.texts\./, "setup.error.wording"],
  [/^scripts\./, "setup.error.script"],
];
const PLACEHOLDERS = { site: "{site}", when: "{when}", eta_when: "{eta_when}" }; // shown as written

// A labelled input bound to `object[key]` and to `field`, its path in the set-up file;
// `read` turns the input's value into the stored one.
function bound(labelKey, object, key, { type = "text", read = (v) => v, show = (v) => v ?? "",
                                        attributes = {}, labelText, field } = {}) {
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
  if (field) input.dataset.field = field;
  const text = labelText ?? say(texts, labelKey);
  if (type === "checkbox") return element("label", { className: "switch" }, input, text);
  return element("label", {}, text, input);
}

function choice(labelKey, object, key, options, field) {
  const select = element("select", { onchange: () => { object[key] = select.value || null; } },
    ...options.map(([value, text]) => element("option", { value, textContent: text })));
  select.value = object[key] ?? "";
  select.dataset.field = field;
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
  languages.dataset.field = "languages";
  $("site-fields").replaceChildren(bound("setup.name", model, "name", { field: "name" }),
    bound("setup.timezone", model, "timezone", { field: "timezone" }), languages);
}

// The site file's assembly points as saved, which each zone names by id.
function assemblyPoints() {
  return (model.config.assembly_points || []).map((point) => [point.id, point.name]);
}

// Each point with its printable sign (the QR code a phone scans there during an incident).
function renderPoints() {
  $("points").replaceChildren(...model.assembly_points.map((point, index) => element("fieldset", { className: "card" },
    element("legend", { textContent: point.name || say(texts, "setup.new_point") }),
    bound("setup.zone_id", point, "id", { attributes: { readOnly: point.saved, required: true }, field: `assembly_points[${index}].id` }),
    bound("setup.point_name", point, "name", { attributes: { required: true }, field: `assembly_points[${index}].name` }),
    bound("setup.point_where", point, "where", { read: (v) => v.trim() || null, field: `assembly_points[${index}].where` }),
    point.saved ? element("p", {}, element("a", { href: `/sites/${me.site}/assembly-points/${point.id}/sign`,
                                                  textContent: say(texts, "setup.point_sign") })) : "",
    removeButton(model.assembly_points, index))));
}

function renderZones() {
  const exits = { read: (v) => v.split(",").map((e) => e.trim()).filter(Boolean), show: (v) => (v || []).join(", ") };
  $("zones").replaceChildren(...model.zones.map((zone, index) => element("fieldset", { className: "card" },
    element("legend", { textContent: zone.name || say(texts, "setup.new_zone") }),
    bound("setup.zone_id", zone, "id", { attributes: { readOnly: zone.saved, required: true }, field: `zones[${index}].id` }),
    bound("setup.zone_name", zone, "name", { attributes: { required: true }, field: `zones[${index}].name` }),
    bound("setup.exits", zone, "exits", { ...exits, field: `zones[${index}].exits` }),
    choice("setup.assembly", zone, "assembly_point", assemblyPoints(), `zones[${index}].assembly_point`),
    removeButton(model.zones, index))));
}

function renderStaff() {
  const roles = vocabulary.roles.map((role) => [role, say(texts, `setup.role_${role}`)]);
  const zones = [["", "–"], ...model.zones.map((z) => [z.id, z.name || z.id])];
  const languages = vocabulary.languages.map((code) => [code, vocabulary.language_names[code]]);
  $("staff").replaceChildren(...model.staff.map((person, index) => element("fieldset", { className: "card" },
    element("legend", { textContent: person.name || say(texts, "setup.new_person") }),
    person.saved ? "" : bound("setup.staff_name", person, "name", { attributes: { required: true }, field: `staff[${index}].name` }),
    choice("setup.role", person, "role", roles, `staff[${index}].role`),
    choice("setup.home_zone", person, "home_zone", zones, `staff[${index}].home_zone`),
    choice("setup.language", person, "language", languages, `staff[${index}].language`),
    bound("setup.marshal", person, "marshal", { type: "checkbox", field: `staff[${index}].marshal` }),
    person.saved ? "" : removeButton(model.staff, index))));
}

function renderChannels() {
  const notices = model.notices;
  $("channels").replaceChildren(
    bound("setup.public_on_drill", notices, "public_on_drill", { type: "checkbox", field: "notices.public_on_drill" }),
    bound("setup.restored_minutes", notices, "restored_minutes",
          { type: "number", read: Number, attributes: { min: 0, max: 1440 }, field: "notices.restored_minutes" }),
    choice("setup.phone_when_closed", notices, "phone_when_closed",
           [["hangup", say(texts, "setup.hangup")], ["voicemail", say(texts, "setup.voicemail")]],
           "notices.phone_when_closed"),
    bound("setup.phone_open_redirect", notices, "phone_open_redirect", { type: "url", field: "notices.phone_open_redirect" }),
    bound("setup.screen_normal_url", notices, "screen_normal_url", { type: "url", field: "notices.screen_normal_url" }),
    mailboxFields(notices));
}

// The customer-service mailboxes whose automatic reply follows the public notice
// (notices.email): a provider and an address each, saved with the public channels.
function mailboxFields(notices) {
  notices.email ||= [];
  const providers = vocabulary.email_providers.map((code) => [code, say(texts, `setup.provider.${code}`)]);
  const add = element("button", { type: "button", id: "add-mailbox", textContent: say(texts, "setup.add_mailbox"),
                                   onclick: () => {
                                     notices.email.push({ provider: providers[0][0], mailbox: "" });
                                     render();
                                     $("mailboxes").lastElementChild.querySelector("select").focus();
                                   } });
  const list = element("div", { id: "mailboxes" }, ...notices.email.map((entry, index) =>
    element("fieldset", { className: "card" },
      element("legend", { textContent: entry.mailbox || say(texts, "setup.new_mailbox") }),
      choice("setup.provider", entry, "provider", providers, `notices.email[${index}].provider`),
      bound("setup.mailbox", entry, "mailbox", { type: "email", attributes: { required: true, autocomplete: "off" },
                                                 field: `notices.email[${index}].mailbox` }),
      removeButton(notices.email, index))));
  return element("fieldset", { id: "mailbox-fields" },
    element("legend", { textContent: say(texts, "setup.mailboxes") }),
    element("p", { textContent: say(texts, "setup.mailboxes_explain") }), list, add);
}

// One text box per kind and language, holding the site's own wording or else the default.
function renderTexts() {
  const names = vocabulary.language_names;
  $("notices").replaceChildren(element("p", { textContent: say(texts, "setup.placeholders", PLACEHOLDERS) }),
    ...vocabulary.kinds.map((kind) => element("fieldset", {},
      element("legend", { textContent: say(texts, `kind.${kind}`) }),
      ...model.languages.flatMap((code) => [
        bound(null, model.closed[code][kind], "headline", { attributes: { lang: code },
          labelText: `${names[code]}: ${say(texts, "setup.headline")}`, field: `notices.texts.${code}.closed.${kind}.headline` }),
        bound(null, model.closed[code][kind], "body", { type: "textarea", attributes: { lang: code, rows: 3 },
          labelText: `${names[code]}: ${say(texts, "setup.body")}`, field: `notices.texts.${code}.closed.${kind}.body` }),
      ]))));
  $("scripts").replaceChildren(...vocabulary.kinds.map((kind) => element("fieldset", {},
    element("legend", { textContent: say(texts, `kind.${kind}`) }),
    ...model.languages.flatMap((code) => [
      bound(null, model.scripts[code][kind], "title", { labelText: `${names[code]}: ${say(texts, "setup.script_title")}`,
                                                        attributes: { lang: code }, field: `scripts.${code}.${kind}.title` }),
      bound(null, model.scripts[code][kind], "lines", {
        type: "textarea", labelText: `${names[code]}: ${say(texts, "setup.script_lines")}`,
        read: (v) => v.split("\n").map((l) => l.trim()).filter(Boolean), show: (v) => v.join("\n"),
        attributes: { lang: code, rows: 4 }, field: `scripts.${code}.${kind}.lines` }),
    ]))));
}

function render() {
  renderSite();
  renderPoints();
  renderZones();
  renderStaff();
  renderChannels();
  renderTexts();
  fitWords(document.body); // long words at a large text size: hyphenated, never cut off
}

// The set-up file keeps only wording that differs from the defaults, so that improved
// default texts still reach a site that never changed them.
function own(edited, standard) {
  return Object.fromEntries(Object.entries(edited)
    .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(standard[key])));
}

function toConfig(from) {
  const noticeTexts = structuredClone(from.notices.texts || {});
  const scripts = structuredClone(from.config_scripts);
  for (const code of vocabulary.languages) {
    const closed = own(from.closed[code], defaults.closed[code]);
    noticeTexts[code] = { ...noticeTexts[code], closed };
    if (!Object.keys(closed).length) delete noticeTexts[code].closed;
    if (!Object.keys(noticeTexts[code]).length) delete noticeTexts[code];
    scripts[code] = own(from.scripts[code], defaults.scripts[code]);
    if (!Object.keys(scripts[code]).length) delete scripts[code];
  }
  return {
    ...from.config,
    site: from.site, name: from.name, timezone: from.timezone, languages: from.languages,
    assembly_points: from.assembly_points.map(({ id, name, where }) => ({ id, name, ...(where ? { where } : {}) })),
    zones: from.zones.map(({ id, name, exits, assembly_point }) => ({ id, name, exits, assembly_point })),
    // `saved` is the page's own mark; a marshal is written as such, nobody else.
    staff: from.staff.map(({ saved: _saved, marshal, ...person }) => ({ ...person, ...(marshal ? { marshal } : {}) })),
    notices: { ...from.notices, texts: noticeTexts },
    scripts,
  };
}

// What each section owns of the set-up file: saving it sends the saved file with these parts
// taken from the page.
const SECTIONS = {
  site: (config, edited) => ({ ...config, name: edited.name, timezone: edited.timezone, languages: edited.languages }),
  points: (config, edited) => ({ ...config, assembly_points: edited.assembly_points }),
  zones: (config, edited) => ({ ...config, zones: edited.zones }),
  staff: (config, edited) => ({ ...config, staff: edited.staff }),
  channels: (config, edited) => ({ ...config, notices: { ...edited.notices, texts: config.notices.texts } }),
  notices: (config, edited) => ({ ...config, notices: { ...config.notices, texts: edited.notices.texts } }),
  scripts: (config, edited) => ({ ...config, scripts: edited.scripts }),
};
// ... and which parts of the page's model it takes back from the server once saved.
const MODEL_PARTS = {
  site: ["name", "timezone", "languages"],
  points: ["assembly_points"],
  zones: ["zones"],
  staff: ["staff"],
  channels: ["notices"],
  notices: ["closed"],
  scripts: ["scripts", "config_scripts"],
};

// {lang: {kind: wording}}: the site's own wording over the default, as copies the form may edit.
function perKind(standard, ownOf) {
  return Object.fromEntries(vocabulary.languages.map((code) => [code,
    Object.fromEntries(vocabulary.kinds.map((kind) => [kind,
      structuredClone({ ...standard[code][kind], ...(ownOf(code)?.[kind] || {}) })]))]));
}

function modelOf(config) {
  const ownTexts = config.notices.texts || {};
  return {
    ...structuredClone(config),
    config,
    notices: { ...defaults.notices, ...structuredClone(config.notices) },
    assembly_points: (config.assembly_points || []).map((point) => ({ ...point, saved: true })),
    zones: config.zones.map((zone) => ({ ...zone, saved: true })),
    staff: config.staff.map((person) => ({ ...person, saved: true })),
    config_scripts: structuredClone(config.scripts),
    closed: perKind(defaults.closed, (code) => ownTexts[code]?.closed),
    scripts: perKind(defaults.scripts, (code) => config.scripts[code]),
  };
}

async function fetchSetup() {
  const response = await fetch(`/api/sites/${me.site}/setup`).catch(() => null);
  return response?.ok ? response.json() : null;
}

async function load() {
  const body = await fetchSetup();
  if (!body) {
    $("setup-status").textContent = say(texts, "connection.offline");
    return;
  }
  ({ defaults } = body);
  saved = modelOf(body.config);
  model = modelOf(body.config);
  render();
  $("setup").hidden = false;
}

// Mistakes beside their fields: the field the server names, or the nearest one it lies in.
function showMistakes(form, problems) {
  let placed = 0;
  for (const problem of problems) {
    let path = problem.field || "";
    let input = null;
    while (path && !(input = form.querySelector(`[data-field="${CSS.escape(path)}"]`))) {
      path = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
      if (!/[.[]/.test(path) && !form.querySelector(`[data-field="${CSS.escape(path)}"]`)) break;
    }
    if (!input) continue;
    const key = FIELD_ERRORS.find(([pattern]) => pattern.test(problem.field))?.[1] || "setup.error.unknown";
    const id = `error-${problem.field.replace(/[^\w-]/g, "_")}`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.closest("label, fieldset").append(
      element("p", { className: "field-error", id }, say(texts, key, PLACEHOLDERS)));
    placed += 1;
  }
  form.querySelector("[aria-invalid=true]")?.focus();
  return placed;
}

function clearMistakes(form) {
  form.querySelectorAll(".field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => {
    node.removeAttribute("aria-invalid");
    node.removeAttribute("aria-describedby");
  });
}

async function save(form) {
  const section = form.dataset.section;
  const result = form.querySelector(".result");
  clearMistakes(form);
  const config = SECTIONS[section](toConfig(saved), toConfig(model));
  const response = await fetch(`/api/sites/${me.site}/setup`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
    body: JSON.stringify({ config }),
  }).catch(() => null);
  const body = await response?.json().catch(() => null);
  if (!response) {
    result.textContent = say(texts, "connection.offline");
  } else if (!response.ok) {
    const problems = body?.problems || (body?.field ? [{ field: body.field }] : []);
    result.textContent = say(texts, showMistakes(form, problems) ? "setup.not_saved" : "setup.not_saved_other");
  } else {
    // The other sections keep what was typed into them and not saved yet.
    const fresh = await fetchSetup();
    if (fresh) {
      saved = modelOf(fresh.config);
      const taken = modelOf(fresh.config);
      for (const part of MODEL_PARTS[section]) model[part] = taken[part];
      model.config = fresh.config;
      render();
    }
    result.textContent = say(texts, "setup.saved_at", { when: momentOf(new Date().toISOString(), texts, model.timezone) });
  }
}

for (const form of document.querySelectorAll("form.section")) {
  form.onsubmit = (submitted) => {
    submitted.preventDefault();
    save(form);
  };
}
$("add-zone").onclick = () => {
  model.zones.push({ id: "", name: "", exits: [], assembly_point: assemblyPoints()[0]?.[0] ?? "" });
  render();
  $("zones").lastElementChild.querySelector("input").focus();
};
$("add-point").onclick = () => {
  model.assembly_points.push({ id: "", name: "", where: null });
  render();
  $("points").lastElementChild.querySelector("input").focus();
};
$("add-person").onclick = () => {
  model.staff.push({ name: "", role: "staff", home_zone: null, language: lang });
  render();
  $("staff").lastElementChild.querySelector("input").focus();
};

addEventListener("resize", () => fitWords(document.body));
if (!me.csrf_token) $("setup-status").textContent = say(texts, "signin.explain");
else await load();
