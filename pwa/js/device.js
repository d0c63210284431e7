// What a phone tells the server as it connects, for the duty manager's readiness list: the
// version of the app it runs (the name of its service worker's shell cache, which the server
// stamps with a digest of the app's files: server/pages.py) and whether it may show
// notifications (Notification.permission).
export async function deviceReport() {
  const names = await globalThis.caches?.keys().catch(() => []) ?? [];
  const shell = names.find((name) => name.startsWith("exitnow-shell-"));
  return {
    app_version: shell ? shell.slice("exitnow-shell-".length) : null,
    notifications: "Notification" in globalThis ? Notification.permission : "unsupported",
  };
}
