// The queue-ticket screen: normal content when open; the notice over the whole screen, in
// every language of the site, when closed (and "open again" for a while after).
// Live through Socket.IO; when that is down, it falls back to polling status.json, which
// nginx or a CDN can keep serving even while the app is down.
import { $, element } from "/pwa/js/dom.js";
import { io } from "/pwa/vendor/socket.io.esm.min.js";

const site = location.pathname.split("/").filter(Boolean).pop();
const statusUrl = `/status/${site}.json`;
const POLL_MS = 10000;
let shownVersion = null;

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

function showTakeover(status) {
  takeover.className = `takeover ${status.state}`;
  takeover.replaceChildren(
    ...status.languages.map((lang) => element("article", { lang },
      element("h1", {}, status.notice[lang].headline),
      element("p", {}, status.notice[lang].lines.join(" ")))),
  );
  takeover.hidden = false;
}

function show(status) {
  if (!status || status.version === shownVersion) return;
  shownVersion = status.version;
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
setInterval(() => { if (!socket.connected) poll(); }, POLL_MS);
poll();
