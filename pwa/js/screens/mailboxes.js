// The customer-service mailboxes' automatic replies on the duty manager's console (both of
// its screens): on since when, failing and retried, or left as someone else set it. The server
// switches them in the background (server/channels/mailboxes/switcher.py); this only shows how it went.
import { $, element } from "../dom.js";
import { say } from "../texts.js";
import { momentOf } from "../when.js";

const MAILBOX_EVENTS = ["notice.switched", "notice.switch_failed", "notice.reply_kept"];

// Keep state.mailbox_states (as the server's `state` gives it) current between two `state`s,
// as server/store/projectors.py applies the same events.
export function applyMailboxEvent(state, event) {
  const payload = event.payload || {};
  if (!state.mailbox_states || !MAILBOX_EVENTS.includes(event.type) || payload.channel !== "email") return;
  let mailbox = state.mailbox_states.find((m) => m.mailbox === payload.mailbox);
  if (!mailbox) {
    mailbox = { mailbox: payload.mailbox, provider: payload.provider, reply: null, since: null, failing: null };
    state.mailbox_states.push(mailbox);
  }
  if (event.type === "notice.switch_failed") {
    mailbox.failing = { since: mailbox.failing?.since || event.ts, status: payload.answer?.status ?? null,
                        retry_at: payload.retry_at ?? null };
    return;
  }
  mailbox.reply = event.type === "notice.reply_kept" ? "theirs" : payload.reply;
  mailbox.since = event.ts;
  mailbox.failing = null;
}

// The sentence for one mailbox: its failure first (it is what needs attention), else its reply.
function sentence(app, mailbox) {
  const time = momentOf(mailbox.since, app.texts, app.server.state?.site.timezone);
  if (mailbox.failing) {
    const key = mailbox.failing.status ? "mailboxes.failing" : "mailboxes.failing_no_answer";
    return say(app.texts, key, { status: mailbox.failing.status });
  }
  const check = (app.mailboxReadiness || []).find((m) => m.mailbox === mailbox.mailbox);
  if (!mailbox.reply && check?.ready === false) {
    const reason = say(app.texts, `mailboxes.reason.${check.reason}`, { status: check.status ?? "" });
    return say(app.texts, "mailboxes.not_ready", { reason });
  }
  const reply = mailbox.reply || (app.server.state?.incident ? "switching"
    : check?.ready ? "ready" : "untouched");
  return say(app.texts, `mailboxes.${reply}`, { time });
}

// Whether each mailbox's credentials work, as readiness.js reads it (GET readiness): said
// beside the mailbox, and a warning when the app reaches a mailbox it should not.
export function renderMailboxReadiness(app, mailboxes) {
  app.mailboxReadiness = mailboxes || [];
  const warned = app.mailboxReadiness.find((m) => m.warning)?.warning;
  $("start-mailboxes-warning").hidden = !warned;
  $("start-mailboxes-warning").textContent = warned
    ? say(app.texts, `mailboxes.warning.${warned.reason}`, { mailbox: warned.mailbox }) : "";
  renderMailboxes(app, true);
}

// An address is read and typed as it is: never hyphenated (js/fit.js), and where it must
// break, before its @.
function address(mailbox) {
  const at = mailbox.lastIndexOf("@");
  return element("strong", { className: "verbatim" }, mailbox.slice(0, at), element("wbr"), mailbox.slice(at));
}

// Into the console's card and the start screen's: one list, drawn the same way.
export function renderMailboxes(app, isManager) {
  const mailboxes = (isManager && app.server.state?.mailbox_states) || [];
  for (const id of ["console-mailboxes", "start-mailboxes"]) {
    $(id).hidden = mailboxes.length === 0;
    $(`${id}-list`).replaceChildren(...mailboxes.map((mailbox) =>
      element("li", { className: mailbox.failing ? "mailbox-failing" : `mailbox-${mailbox.reply || "none"}` },
              address(mailbox.mailbox), `: ${sentence(app, mailbox)}`)));
  }
}
