// The visitor's own page at the entrance (/visit/<site>, opened from a QR code at the door): sign
// in without an account, keep the personal link (its token in the URL's fragment, which no
// server sees, and in this browser), sign out, and during an alarm "I am out" (or "I am safe"
// when the alarm keeps people inside). In the visitor's language, chosen on the page.
import { $, element } from "./dom.js";
import { phoneNumber } from "./phone.js";
import { applyTexts, loadTexts, pageTexts, say, sayCount } from "./texts.js";

const site = decodeURIComponent(location.pathname.split("/")[2] || "");
const API = `/api/sites/${encodeURIComponent(site)}/visitors/self`;
const KEPT_LINK = `exitnow-visit-${site}`; // this browser's personal link for the site
const KEPT_LANGUAGE = "exitnow-visit-language";
const POLL_MS = 10_000; // an alarm shows on an open page within this

const page = { texts: {}, lang: "en", languages: null, siteName: "", token: null, visit: null,
               signInKey: null, marked: false, privacy: null };

// The personal link: from the fragment when the link was opened, else as this browser kept it.
function readLink() {
  const fromLink = decodeURIComponent(location.hash.slice(1));
  if (fromLink) localStorage.setItem(KEPT_LINK, fromLink);
  return fromLink || localStorage.getItem(KEPT_LINK);
}

function keepLink(token) {
  page.token = token;
  if (token) localStorage.setItem(KEPT_LINK, token);
  else localStorage.removeItem(KEPT_LINK);
  history.replaceState(null, "", token ? `#${token}` : location.pathname + location.search);
}

// The site's name and languages, from its public status (the page knows no more before sign-in).
async function readSite() {
  const response = await fetch(`/status/${encodeURIComponent(site)}.json`, { cache: "no-store" })
    .catch(() => null);
  if (!response?.ok) return;
  const status = await response.json();
  page.languages = status.languages;
  page.siteName = status.name;
}

// Who is responsible for the visitor's data and how long it is kept (the site file's privacy).
async function readPrivacy() {
  const response = await fetch(`/api/sites/${encodeURIComponent(site)}/privacy`).catch(() => null);
  page.privacy = response?.ok ? await response.json() : null;
}

function renderPrivacy() {
  const { privacy, texts } = page;
  $("visit-privacy").hidden = !privacy;
  if (!privacy) return;
  $("visit-privacy-controller").hidden = !privacy.controller;
  $("visit-privacy-controller").textContent = say(texts, "visit.privacy.controller", privacy);
  $("visit-privacy-how-long").textContent =
    sayCount(texts, page.lang, "visit.privacy.how_long", privacy.visitors_days);
  $("visit-privacy-more").hidden = !privacy.notice_url;
  if (privacy.notice_url) $("visit-privacy-link").href = privacy.notice_url;
}

// The visit as the server has it; null when the link is not (or no longer) valid here.
async function readVisit() {
  if (!page.token) return null;
  const response = await fetch(API, { cache: "no-store", headers: { "X-Visitor-Link": page.token } })
    .catch(() => null);
  if (!response) return page.visit; // offline: as it was
  if (response.status === 404) {
    keepLink(null);
    return null;
  }
  return response.ok ? response.json() : page.visit;
}

async function post(path, body, key = crypto.randomUUID()) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify(body),
  }).catch(() => null);
}

function tell(key, values) {
  $("visit-status").textContent = key ? say(page.texts, key, values) : "";
}

function languageName(code) {
  const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
  return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
}

function render() {
  const { texts, visit } = page;
  applyTexts(texts, page.lang);
  for (const button of $("visit-languages").children) {
    button.setAttribute("aria-pressed", String(button.lang === page.lang));
  }
  $("visit-site").textContent = page.siteName;
  renderPrivacy();
  const signedIn = Boolean(visit?.signed_in);
  $("visit-signin").hidden = Boolean(visit);
  $("visit-in").hidden = !signedIn;
  $("visit-gone").hidden = !visit || signedIn;
  if (signedIn) $("visit-hello").textContent = say(texts, "visit.hello", { name: visit.name || "" });
  renderAlarm(signedIn ? visit.incident : null);
}

function renderAlarm(incident) {
  $("visit-alarm").hidden = !incident;
  if (!incident) return;
  const { texts } = page;
  const leave = incident.asks === "leave";
  $("visit-alarm-head").classList.toggle("is-drill", incident.drill);
  $("visit-drill").hidden = !incident.drill;
  $("visit-alarm-title").textContent = say(texts, `kind.${incident.kind}`);
  $("visit-alarm-do").textContent = say(texts, `visit.do.${incident.asks}`);
  const done = incident.accounted || page.marked;
  $("visit-safe").hidden = done;
  $("visit-safe").textContent = say(texts, leave ? "visit.out" : "visit.safe");
  $("visit-safe-done").hidden = !done;
  $("visit-safe-done").textContent = say(texts, leave ? "visit.out_done" : "visit.safe_done");
}

async function chooseLanguage(code) {
  localStorage.setItem(KEPT_LANGUAGE, code);
  page.texts = await loadTexts(code);
  page.lang = code;
  history.replaceState(null, "", location.pathname + location.hash); // no ?lang= over the choice
  render();
}

async function refresh() {
  const before = page.visit?.incident;
  page.visit = await readVisit();
  if (!page.visit?.incident) page.marked = false;
  render();
  if (!before && page.visit?.incident && page.visit.signed_in) {
    navigator.vibrate?.([600, 200, 600]);
    $("visit-alarm-title").focus?.();
  }
}

async function signIn(event) {
  event.preventDefault();
  const name = $("visit-name").value.trim();
  const typedPhone = $("visit-phone").value.trim();
  const phone = typedPhone ? phoneNumber(typedPhone) : null;
  const wrong = !name ? "visit-name" : typedPhone && !phone ? "visit-phone" : null;
  for (const id of ["visit-name", "visit-phone"]) $(id).toggleAttribute("aria-invalid", id === wrong);
  if (wrong) {
    tell(wrong === "visit-name" ? "visit.error.name" : "visit.error.phone");
    return $(wrong).focus();
  }
  const body = { name, language: page.lang };
  const company = $("visit-company").value.trim();
  if (company) body.company = company;
  if (phone) body.phone = phone;
  // The same key until it is answered: a retry after a lost answer signs in once.
  page.signInKey ||= crypto.randomUUID();
  const response = await post(API, body, page.signInKey);
  if (!response) return tell("visit.error.offline");
  page.signInKey = null;
  if (!response.ok) return tell(response.status === 429 ? "visit.error.busy" : "visit.error.failed");
  keepLink((await response.json()).token);
  $("visit-form").reset();
  tell(null);
  await refresh();
  $("visit-hello").focus();
}

// Answers whether the server took it.
async function act(path) {
  const response = await post(path, { token: page.token });
  tell(response?.ok ? null : response ? "visit.error.failed" : "visit.error.offline");
  if (response?.ok) await refresh();
  return Boolean(response?.ok);
}

async function start() {
  await Promise.all([readSite(), readPrivacy()]);
  page.token = readLink();
  page.visit = await readVisit();
  const chosen = localStorage.getItem(KEPT_LANGUAGE);
  ({ lang: page.lang, texts: page.texts } = await pageTexts(page.languages, chosen || page.visit?.language));
  $("visit-form").onsubmit = signIn;
  $("visit-leave").onclick = () => act(`${API}/leave`);
  $("visit-safe").onclick = async () => {
    page.marked = await act(`${API}/safe`);
    render();
  };
  $("visit-again").onclick = () => {
    keepLink(null);
    page.visit = null;
    render();
    $("visit-name").focus();
  };
  for (const id of ["visit-hello", "visit-alarm-title"]) $(id).tabIndex = -1;
  // Made once: a button redrawn under a finger would lose the tap.
  $("visit-languages").replaceChildren(...(page.languages || [page.lang]).map((code) => {
    const button = element("button", { type: "button", lang: code }, languageName(code));
    button.onclick = () => chooseLanguage(code);
    return button;
  }));
  render();
  setInterval(refresh, POLL_MS);
  addEventListener("online", refresh);
}

start();
