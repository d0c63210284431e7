// Exit Now's service worker: small and boring. It keeps the app shell for offline use, shows
// the alarm pushed to a locked phone, and opens the alarm screen when the alarm is tapped.
// Data (the last state, scripts, actions waiting to be sent) lives in IndexedDB, not here.

// The server stamps a digest of the app's files here (server/api/pages.py): any change to the app
// is a new cache, and the old one is deleted on activate.
const SHELL_CACHE = "exitnow-shell-@SHELL_VERSION@";

const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/pwa/css/app.css",
  "/pwa/js/app.js",
  "/pwa/js/device.js",
  "/pwa/js/deliberate.js",
  "/pwa/js/dom.js",
  "/pwa/js/fit.js",
  "/pwa/js/server.js",
  "/pwa/js/store.js",
  "/pwa/js/texts.js",
  "/pwa/js/when.js",
  "/pwa/js/model.js",
  "/pwa/js/phone.js",
  "/pwa/js/refusals.js",
  "/pwa/js/screens/alarm.js",
  "/pwa/js/screens/allclear.js",
  "/pwa/js/screens/backup.js",
  "/pwa/js/screens/console.js",
  "/pwa/js/screens/customer.js",
  "/pwa/js/screens/lowspace.js",
  "/pwa/js/screens/end.js",
  "/pwa/js/screens/home.js",
  "/pwa/js/screens/lockscreen.js",
  "/pwa/js/screens/mailboxes.js",
  "/pwa/js/screens/marshal.js",
  "/pwa/js/screens/panel.js",
  "/pwa/js/screens/readiness.js",
  "/pwa/js/screens/reception.js",
  "/pwa/js/screens/responder.js",
  "/pwa/js/screens/start.js",
  "/pwa/js/screens/unreached.js",
  "/pwa/js/screens/unaccounted.js",
  "/pwa/texts/fi.json",
  "/pwa/texts/sv.json",
  "/pwa/texts/en.json",
  "/pwa/vendor/socket.io.esm.min.js",
  "/pwa/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("exitnow-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

// The pages that are the staff app (index.html): the app itself and an assembly point sign's
// check-in. Any other page (set-up, a visitor's page) is not the app and is never kept as it.
const isAppPage = (url) => url.pathname === "/" || url.pathname.startsWith("/checkin/");

// The shell: network first (so an update shows at once), the cache when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const isShell = (event.request.mode === "navigate" && isAppPage(url)) || SHELL.includes(url.pathname);
  if (!isShell) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(SHELL_CACHE).then((cache) =>
            cache.put(event.request.mode === "navigate" ? "/" : event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request.mode === "navigate" ? "/" : event.request)),
  );
});

self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : {};
  const shown = self.registration.showNotification(message.title || "Exit Now",
                                                   notificationFor(message));
  // A test alarm is answered at once: the receipt is what the duty manager's readiness shows.
  const answered = message.type === "test_alarm.sent" ? answerTest(message) : null;
  event.waitUntil(Promise.all([shown, answered]));
});

// The alarm insists until tapped, and the all-clear replaces it (the same tag); a test alarm
// and a backup request each have their own tag and do not wait for a tap.
function notificationFor(message) {
  // A push without a type is an alarm as servers sent it before types: the push service may
  // still hold one (for its TTL) when the app updates.
  const isAlarm = !message.type || message.type === "incident.started";
  const isAlarmTag = isAlarm || message.type === "incident.ended";
  return {
    body: message.body || "",
    tag: isAlarmTag ? "exitnow-alarm" : `exitnow-${message.type}`,
    renotify: true,
    requireInteraction: isAlarm,
    vibrate: isAlarm ? [600, 200, 600, 200, 600] : [200],
    icon: "/pwa/icons/icon-192.png",
    data: { url: message.url || "/#alarm", seq: message.seq },
  };
}

// The push carries the path to answer and this phone's CSRF token (encrypted to it alone); the
// session cookie goes with the request as with any of the app's writes.
function answerTest(message) {
  return fetch(message.answer, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": message.csrf_token,
      "Idempotency-Key": `test-alarm-${message.test_id}`,
    },
    body: "{}",
  }).catch(() => {});
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/#alarm", location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === location.origin);
      if (open) return open.navigate(target).then((client) => (client || open).focus());
      return self.clients.openWindow(target);
    }),
  );
});
