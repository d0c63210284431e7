// The banner admins and duty managers see while the server's disk is nearly full, or full
// and the reserve kept for the alarm was used (the server's `disk` message, server/store/disk.py):
// what is wrong and what to do, until the server says there is room again.
import { $ } from "../dom.js";
import { isManager } from "../model.js";
import { say } from "../texts.js";

export function renderDisk(app, disk) {
  const shown = isManager(app.vocabulary, app.server.me?.role) && disk && (disk.low || disk.reserve_used);
  $("disk-warning").hidden = !shown;
  if (!shown) return;
  const key = disk.reserve_used ? "disk.reserve_used" : "disk.low";
  $("disk-warning-text").textContent = say(app.texts, key, { megabytes: disk.free_mb });
}
