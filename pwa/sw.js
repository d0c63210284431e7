// Exit Now's service worker: small and boring. It keeps the app shell for offline use, shows
// the alarm pushed to a locked phone, and opens the alarm screen when the alarm is tapped.
// Data (the last state, scripts, actions waiting to be sent) lives in IndexedDB, not here.

// The server stamps a digest of the app's files here (server/pages.py): any change to the app
// is a new cache, and the old one is deleted on activate.
const SHELL_CACHE = "exitnow-shell-@SHELL_VERSION@";

const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/pwa/css/app.css",
  "/pwa/js/app.js",
  "/pwa/js/dom.js",
  "/pwa/js/server.js",
  "/pwa/js/store.js",
  "/pwa/js/texts.js",
  "/pwa/js/model.js",
  "/pwa/js/screens/alarm.js",
  "/pwa/js/screens/console.js",
  "/pwa/js/screens/customer.js",
  "/pwa/js/screens/home.js",
  "/pwa/js/screens/responder.js",
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

// The shell: network first (so an update shows at once), the cache when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const isShell = event.request.mode === "navigate" || SHELL.includes(url.pathname);
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
  const alarm = event.data ? event.data.json() : {};
  event.waitUntil(
    self.registration.showNotification(alarm.title || "Exit Now", {
      body: alarm.body || "",
      tag: "exitnow-alarm",
      renotify: true,
      requireInteraction: true,
      vibrate: [600, 200, 600, 200, 600],
      icon: "/pwa/icons/icon-192.png",
      data: { url: alarm.url || "/#alarm", seq: alarm.seq },
    }),
  );
});

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
