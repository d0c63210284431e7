// The staff app: starts the connection and shows the one screen that fits the moment.
import { $ } from "./dom.js";
import { applyEvent, isManager, isResponder, loadVocabulary, myRollCall } from "./model.js";

import { keepFitting } from "./fit.js";
import { renderAlarm, alarmArrived, helpResolved, sweepAsked, wireAlarm } from "./screens/alarm.js";
import { allClearArrived, renderAllClear, wireAllClear } from "./screens/allclear.js";
import { backupAnswered, backupFromState, checkBackup, renderBackup, wireBackup } from "./screens/backup.js";
import { helpRequested, renderConsole, renderHistory, sweepAnswered, wireConsole } from "./screens/console.js";
import { renderCustomer, wireCustomer } from "./screens/customer.js";
import { applyMailboxEvent, renderMailboxes } from "./screens/mailboxes.js";
import { renderMarshal, wireMarshal } from "./screens/marshal.js";
import { renderReception, wireReception } from "./screens/reception.js";
import { renderUnaccounted, wireUnaccounted } from "./screens/unaccounted.js";
import { renderDisk } from "./screens/lowspace.js";
import { backupAnsweredByResponder, backupRequested, renderBackupRequests, wireResponder } from "./screens/responder.js";
import { applyPanelEvent, panelEventArrived, renderAlarmPanel, wirePanel } from "./screens/panel.js";
import { renderConsoleStart } from "./screens/start.js";

import { renderHome } from "./screens/home.js";
import { renderLockScreen, wireLockScreen } from "./screens/lockscreen.js";
import { Server } from "./server.js";
import * as store from "./store.js";
import { applyTexts, loadTexts, pageTexts, say, sayCount } from "./texts.js";

// vocabulary: the server's words (languages, kinds, who is a manager or a responder, how events
// change the state), from model.js loadVocabulary once signed in.
const app = { server: new Server(), texts: {}, lang: null, scripts: null, vocabulary: null };
const SCREENS = ["screen-signin", "screen-home", "screen-alarm", "screen-customer",
                 "screen-allclear", "screen-console-start", "screen-console", "screen-marshal",
                 "screen-unaccounted", "screen-reception"];
// An assembly point sign's QR code opens /checkin/<site>/<point>: "I am safe here".
const SIGN = location.pathname.match(/^\/checkin\/([^/]+)\/([^/]+)\/?$/);
app.checkIn = SIGN ? { site: decodeURIComponent(SIGN[1]), point: decodeURIComponent(SIGN[2]) } : null;

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
}

app.render = function render() {
  renderScreen();
  // Said where the day starts (home, the console's start), never over an alarm.
  renderLockScreen(app, Boolean(app.server.me) && !app.server.state?.incident);
  renderBackup(app, !$("screen-home").hidden || !$("screen-alarm").hidden);
};

function renderScreen() {
  const { me, state } = app.server;
  if (!me) return show("screen-signin");
  $("site-name").textContent = state?.site.name || "Exit Now";
  renderBackupRequests(app);
  renderAlarmPanel(app, isManager(app.vocabulary, me.role));
  renderMailboxes(app, isManager(app.vocabulary, me.role));
  if (app.showingReception && isResponder(app.vocabulary, me.role)) {
    renderReception(app);
    return show("screen-reception");
  }
  if (state?.incident && app.showingMarshal && me.marshal) {
    renderMarshal(app);
    return show("screen-marshal");
  }
  if (state?.incident && app.showingUnaccounted && isResponder(app.vocabulary, me.role)) {
    renderUnaccounted(app);
    return show("screen-unaccounted");
  }
  if (isManager(app.vocabulary, me.role) && state) {
    if (state.incident) {
      renderConsole(app);
      return show("screen-console");
    }
    renderConsoleStart(app);
    return show("screen-console-start");
  }
  if (state?.incident && app.showingCustomer) {
    renderCustomer(app);
    return show("screen-customer");
  }
  if (state?.incident) {
    renderAlarm(app);
    return show("screen-alarm");
  }
  app.showingCustomer = false;
  if (app.allClear) {
    renderAllClear(app);
    return show("screen-allclear");
  }
  renderHome(app);
  $("home-reception").hidden = !isResponder(app.vocabulary, me.role); // the desk: guards too
  show("screen-home");
}

function renderConnection() {
  const { connected, lostSince } = app.server;
  const seconds = lostSince ? Math.round((Date.now() - lostSince) / 1000) : 0;
  $("connection").textContent = connected
    ? say(app.texts, "connection.ok")
    : sayCount(app.texts, app.lang, "connection.lost", seconds);
  $("connection").className = connected ? "ok" : "lost";
}

// Shown once an action has waited a moment (offline, a slow network): one sent and answered
// at once never flickers, nor moves the screen under the person's thumb.
let outboxShortly = null;
function renderOutbox(items) {
  $("outbox").textContent = say(app.texts, "outbox.waiting", {
    labels: items.map((item) => item.label).join(", "),
  });
  if (!items.length) {
    clearTimeout(outboxShortly);
    outboxShortly = null;
    $("outbox").hidden = true;
  } else if ($("outbox").hidden && !outboxShortly) {
    outboxShortly = setTimeout(() => {
      outboxShortly = null;
      $("outbox").hidden = false;
    }, 1000);
  }
}

function onEvent(event) {
  const { state } = app.server;
  if (!state) return;
  if (event.type === "redacted") {
    state.seq = event.last_seq ?? event.seq; // numbers only: nothing here for this person
    store.put("state", state);
    checkBackup(app); // perhaps the answer to my backup request
    return;
  }
  // What the event ends, as this phone knew it before applying it.
  const ended = state.incident;
  const resolvedHelp = state.help_requests?.find((h) => h.id === event.payload?.help_id);
  const answeredBackup = state.backup_requests?.find((b) => b.id === event.payload?.backup_id);
  const askedZone = { ...state.zones.find((z) => z.id === event.payload?.zone) };
  applyEvent(state, event, app.vocabulary);
  applyPanelEvent(state, event);
  applyMailboxEvent(state, event);
  store.put("state", state);
  const manager = isManager(app.vocabulary, app.server.me.role);
  if (event.type === "incident.ended" && !manager) allClearArrived(app, ended, event);
  if (["incident.started", "incident.ended"].includes(event.type)) forgetIncident(app);
  if (event.type === "incident.started") store.put("allclear", (app.allClear = null));
  if (event.type === "help.resolved") helpResolved(app, resolvedHelp, event);
  if (event.type === "backup.answered") {
    backupAnswered(app, event);
    backupAnsweredByResponder(app, answeredBackup, event);
  }
  if (event.type === "incident.started") {
    $("announcer").textContent = $("alarm-title").textContent = "";
    app.render();
    $("announcer").textContent = $("alarm-title").textContent; // screen readers say it now
    confirmDelivery();
  } else {
    app.render();
  }
  if (event.type === "backup.requested") backupRequested(app);
  if (event.type === "help.requested" && manager) helpRequested(app, event);
  if (event.type === "zone.sweep_requested") sweepAsked(app, event);
  if (manager) sweepAnswered(app, event, askedZone);
  if (manager) panelEventArrived(app, event);
  if (event.type === "incident.ended" && manager) renderHistory(app);
}

// Nothing about an incident outlives it on any screen: what this phone kept of the last one
// (the zone chosen, answers shown, requests answered, a refusal) goes when one ends or starts.
function forgetIncident(app) {
  app.chosenZone = app.zoneAnswer = app.askedZone = null;
  app.myResolvedHelp = [];
  app.answeredBackups = [];
  app.showingCustomer = app.showingMarshal = app.showingUnaccounted = false;
  $("checkin").hidden = true;
  if (app.backup?.outcome) store.put("backup_seen", (app.backupSeen = app.backup.id));
  $("refused").hidden = true;
  $("announcer").textContent = "";
}

// Tell the server once per incident that the alarm reached this phone: when it arrives live,
// or when the app opens (from a push, after a reconnect) into an incident not yet confirmed.
function confirmDelivery() {
  const { state, me } = app.server;
  const incident = state?.incident;
  if (!incident || app.confirmed === incident.id || myRollCall(state, me).delivered_at) return;
  app.confirmed = incident.id;
  alarmArrived(app, incident.id);
}

// An action the server refused, in the person's language with what to do: from the status
// and the problem's fields, never the server's English detail.
function showRefused({ label, offline, status, problem = {} }) {
  const overNow = status === 409 && !app.server.state?.incident && !problem.zone;
  const diskFull = problem.type?.endsWith("/disk-full");
  const why = offline ? "offline" : overNow ? "over" : diskFull ? "disk_full" : { 401: "signed_out",
    403: "forbidden", 404: "gone", 409: "conflict" }[status] || "unknown";
  $("refused").hidden = false;
  $("refused-text").textContent = say(app.texts, `refused.${why}`, { action: label });
}

// A sign's QR code scanned: during an incident, "I am safe" at that point (how: qr, through
// the outbox: kept and sent when the network is back); otherwise say plainly why not. Called
// with the state from the server (or, offline, the one kept), once.
function checkInAtSign() {
  const sign = app.checkIn;
  const { state, me } = app.server;
  if (!sign || !state) return;
  app.checkIn = null;
  history.replaceState(null, "", "/"); // a reload is the app, not a second check-in
  const point = me.site === sign.site ? state.assembly_points?.find((p) => p.id === sign.point) : null;
  let key = "checkin.not_here";
  if (point && !state.incident) key = "checkin.no_incident";
  if (point && state.incident) {
    key = "checkin.safe";
    app.safe = state.incident.id;
    app.server.act(say(app.texts, "action.safe"), `/api/sites/${me.site}/incidents/current/safe`,
                   { assembly_point: point.id, how: "qr" }, `qr-${me.staff_id}-${state.incident.id}`);
  }
  $("checkin").hidden = false;
  $("checkin").textContent = say(app.texts, key, { point: point?.name || "" });
  app.render();
}

function showNotEnrolledAtSign() {
  if (!app.checkIn) return;
  $("checkin").hidden = false;
  $("checkin").textContent = say(app.texts, "checkin.not_enrolled");
}

async function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  const changed = app.vocabulary.languages.includes(asked) && asked !== (await store.get("lang"));
  if (changed) await store.put("lang", asked);

  app.lang = (await store.get("lang")) || app.server.me.language || app.vocabulary.default_language;
  app.texts = await loadTexts(app.lang);
  applyTexts(app.texts, app.lang);
  if (changed) {
    // The server keeps it too, so that pushed alarms come in the same language.
    app.server.act(say(app.texts, "action.language"), "/api/me/language", { language: asked },
                   `language-${asked}-${Date.now()}`);
  }
}

async function start() {
  navigator.serviceWorker?.register("/sw.js").catch(() => {});
  if (!(await app.server.signIn())) {
    // Nobody to ask for a language yet: ?lang=, else the phone's own (pageTexts).
    ({ lang: app.lang, texts: app.texts } = await pageTexts(null).catch(() => ({ lang: "en", texts: {} })));
    applyTexts(app.texts, app.lang);
    showNotEnrolledAtSign();
    return app.render();
  }
  app.vocabulary = await loadVocabulary();
  app.server.useSocketFor(app.vocabulary?.socket_actions);
  await chooseLanguage();
  app.scripts = await app.server.scripts();
  wireAlarm(app);
  wireCustomer(app);
  await wireBackup(app);
  await wireResponder(app);
  await wireAllClear(app);
  wireLockScreen(app);
  await wireMarshal(app);
  if (isResponder(app.vocabulary, app.server.me.role)) {
    wireReception(app);
    wireUnaccounted(app);
  }
  if (isManager(app.vocabulary, app.server.me.role)) {
    wireConsole(app);
    wirePanel(app);
    renderHistory(app);
  }
  app.server.addEventListener("state", ({ detail }) => {
    backupFromState(app, detail);
    app.render();
    confirmDelivery();
    checkInAtSign();
  });
  app.server.addEventListener("event", ({ detail }) => onEvent(detail));
  app.server.addEventListener("connection", renderConnection);
  app.server.addEventListener("outbox", ({ detail }) => renderOutbox(detail));
  app.server.addEventListener("refused", ({ detail }) => showRefused(detail));
  app.server.addEventListener("disk", ({ detail }) => renderDisk(app, detail));
  $("refused-ok").onclick = () => { $("refused").hidden = true; };
  keepFitting(document.body); // long words at large type: hyphenated, never cut off
  app.render();
  renderOutbox(await store.outbox());
  if (!navigator.onLine) checkInAtSign(); // offline: the state kept is all there is
  app.server.connect();
  setInterval(renderConnection, 1000);
}

start();
