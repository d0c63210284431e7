// What a phone tells the server as it connects, for the duty manager's readiness list: the
// version of the app it runs (the name of its service worker's shell cache, which the server
// stamps with a digest of the app's files: server/api/pages.py) and whether it may show
// notifications (Notification.permission, or "home_screen": an iPhone outside the app
// installed on its Home Screen, where no web page may ring on the lock screen).
export async function deviceReport() {
  const names = await globalThis.caches?.keys().catch(() => []) ?? [];
  const shell = names.find((name) => name.startsWith("exitnow-shell-"));
  return {
    app_version: shell ? shell.slice("exitnow-shell-".length) : null,
    notifications: needsHomeScreen() ? "home_screen"
      : "Notification" in globalThis ? Notification.permission : "unsupported",
  };
}

// An iPhone or iPad (iPadOS says it is a Mac, with a touch screen) not running the app
// opened from the Home Screen.
export function needsHomeScreen() {
  const apple = /iPhone|iPad|iPod/.test(navigator.userAgent)
    || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  const installed = navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
  return apple && !installed;
}
