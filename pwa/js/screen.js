// The queue-ticket screen inside the shop: normal content when open; while closed, the whole
// screen tells the people already inside what to do, in every language of the site: leave
// now, by which exits, to which assembly point (of the screen's zone: /screen/<site>?zone=<id>),
// and "open again" for a while after the all-clear.
// Live through Socket.IO; when that is down, it falls back to polling status.json, which
// nginx or a CDN can keep serving even while the app is down.
import { $, element } from "/pwa/js/dom.js";
import { fitWords } from "/pwa/js/fit.js";
import { connectAgainWhenAsked } from "/pwa/js/refusals.js";
import { io } from "/pwa/vendor/socket.io.esm.min.js";

const site = location.pathname.split("/").filter(Boolean).pop();
const zoneId = new URLSearchParams(location.search).get("zone");
const statusUrl = `/status/${site}.json`;
const POLL_MS = 10000;
let shown = null;

const takeover = $("takeover");
const connection = $("connection");

function showNormal(status) {
  const frame = $("normal-frame");
  const url = status.screen && status.screen.normal_url;
  if (url && frame.src !== url) frame.src = url;
  frame.hidden = !url;
  $("welcome").hidden = Boolean(url);
  const lines = status.languages.map((lang) => status.notice[lang].headline);
  $("welcome-lines").textContent = lines.join(" · ");
}

// A sentence of the site's words about `names`, in the plural form the language uses for
// their number ({one, other} from server/texts), the names listed as the language lists them.
function aboutNames(forms, names, lang, placeholder) {
  const form = forms[new Intl.PluralRules(lang).select(names.length)] ?? forms.other;
  const list = new Intl.ListFormat(lang, { type: "conjunction" }).format(names);
  return form.replace(`{${placeholder}}`, list);
}

// This screen's way out: its zone's exits and assembly point; a screen that names no zone
// (or one the site no longer has) says "the nearest exit" and every assembly point.
function wayOut(status, inside, lang) {
  const zones = status.screen?.zones || [];
  const zone = zones.find((z) => z.id === zoneId);
  const exits = zone ? zone.exits : [];
  const places = [...new Set((zone ? [zone] : zones).map((z) => z.assembly_point).filter(Boolean))];
  return [
    exits.length ? aboutNames(inside.exits, exits, lang, "exits") : inside.nearest_exit,
    ...(places.length ? [aboutNames(inside.assembly_point, places, lang, "places")] : []),
  ];
}

function insideArticle(status, lang, index) {
  const inside = status.notice[lang].inside;
  return element("article", { lang, className: index === 0 ? "primary" : "" },
    inside.drill ? element("p", { className: "drill" }, inside.drill) : "",
    element("h1", {}, inside.headline),
    ...(inside.way_out ? wayOut(status, inside, lang).map((line) => element("p", { className: "way" }, line)) : []),
    element("ul", { className: "script" }, ...inside.lines.map((line) => element("li", {}, line))));
}

function publicArticle(status, lang, index) {
  return element("article", { lang, className: index === 0 ? "primary" : "" },
    element("h1", {}, status.notice[lang].headline),
    element("p", {}, status.notice[lang].lines.join(" ")));
}

// Large type for the room, but never more than the screen holds: shrink until it fits.
function fitScreen() {
  for (let scale = 1; scale >= 0.3; scale -= 0.05) {
    takeover.style.setProperty("--scale", scale.toFixed(2));
    if (takeover.scrollHeight <= takeover.clientHeight + 1) break;
  }
  fitWords(takeover);
}

function showTakeover(status) {
  const languages = status.languages.filter((lang) => status.notice[lang]);
  const isInside = status.state === "closed" && languages.every((lang) => status.notice[lang].inside);
  const drill = isInside && languages.some((lang) => status.notice[lang].inside.drill);
  takeover.className = `takeover ${status.state}${drill ? " drill" : ""}`;
  const article = isInside ? insideArticle : publicArticle;
  takeover.replaceChildren(
    element("div", { className: "languages" }, ...languages.map((lang, i) => article(status, lang, i))));
  takeover.hidden = false;
  fitScreen();
}

function show(status) {
  const key = status && `${status.version}/${status.words_day}`;
  if (!status || key === shown) return;
  shown = key;
  document.documentElement.lang = status.languages[0];
  document.body.dataset.state = status.state;
  if (status.state === "open") {
    takeover.hidden = true;
    showNormal(status);
  } else {
    showTakeover(status);
  }
}

async function poll() {
  try {
    const response = await fetch(statusUrl, { cache: "no-cache" });
    if (response.ok) show(await response.json());
  } catch {
    // The network is down; the screen keeps what it shows and tries again.
  }
}

// The site in the query too: with sites sharded over nodes, nginx routes the socket by it
// (deploy/nginx.conf); the server reads it from auth.
const socket = io("/public", {
  auth: { site },
  query: { site },
  transports: ["websocket", "polling"],
});
socket.on("notice", show);
socket.on("connect", () => connection.classList.remove("lost"));
socket.on("disconnect", () => connection.classList.add("lost"));
socket.on("connect_error", () => connection.classList.add("lost")); // it polls meanwhile
connectAgainWhenAsked(socket);
addEventListener("resize", () => { if (!takeover.hidden) fitScreen(); });
setInterval(() => { if (!socket.connected) poll(); }, POLL_MS);
poll();
