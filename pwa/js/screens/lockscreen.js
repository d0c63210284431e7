// Whether this phone can ring on its lock screen, told to its owner with the one tap that
// fixes it. Permission is asked only after that tap, saying why (asked at load, Chrome answers
// with a quiet prompt or a block). On an iPhone outside the installed app the step is the Home
// Screen first: Safari gives Web Push only to a web app opened from there (iOS 16.4 and later)
// and shows no install prompt of its own. device.js reports the same to the readiness list.
import { $, element } from "../dom.js";
import { say } from "../texts.js";
import { needsHomeScreen } from "../device.js";

const HOME_SCREEN_STEPS = ["share", "add", "open", "allow"];

// ready | home_screen | unsupported | ask | blocked | failed (asked, allowed, then it failed)
function lockScreenState(app) {
  if (needsHomeScreen()) return "home_screen";
  if (!("PushManager" in window) || !("Notification" in window)) return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  if (Notification.permission === "default") return "ask";
  return app.pushFailed ? "failed" : app.pushReady ? "ready" : "working";
}

export function renderLockScreen(app, shown) {
  const state = lockScreenState(app);
  $("lockscreen").hidden = !shown || ["ready", "working"].includes(state);
  if ($("lockscreen").hidden) return;
  $("lockscreen-title").textContent = say(app.texts, "lockscreen.title");
  $("lockscreen-why").textContent = say(app.texts, `lockscreen.${state}.why`);
  $("lockscreen-steps").hidden = state !== "home_screen";
  $("lockscreen-steps").replaceChildren(...(state === "home_screen" ? HOME_SCREEN_STEPS.map((step) =>
    element("li", {}, say(app.texts, `lockscreen.home_screen.${step}`))) : []));
  const fix = ["ask", "failed"].includes(state);
  $("lockscreen-fix").hidden = !fix;
  if (fix) $("lockscreen-fix").textContent = say(app.texts, `lockscreen.${state}.button`);
}

// Ask the push service for a subscription and give it to the server.
async function subscribe(app) {
  const registration = await navigator.serviceWorker.ready;
  const { key } = await (await fetch("/api/push/vapid-public-key")).json();
  const bytes = Uint8Array.from(atob(key.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const subscription = (await registration.pushManager.getSubscription())
    || (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes }));
  await app.server.act(say(app.texts, "action.push"), "/api/push/subscriptions",
                       { subscription: subscription.toJSON() }, `push-${subscription.endpoint}`);
}

// Subscribe when notifications are allowed; a failure is shown to the owner, never swallowed.
async function trySubscribe(app) {
  try {
    await subscribe(app);
    app.pushReady = true;
    app.pushFailed = false;
  } catch (error) {
    console.warn("push subscription failed", error);
    app.pushFailed = true;
  }
  app.render();
}

export function wireLockScreen(app) {
  $("lockscreen-fix").onclick = async () => {
    if (Notification.permission === "default") await Notification.requestPermission().catch(() => null);
    if (Notification.permission === "granted") await trySubscribe(app);
    app.render();
  };
  // Already allowed (the installed app, or allowed before): renew quietly, asking nothing.
  if (lockScreenState(app) === "working") trySubscribe(app);
}
