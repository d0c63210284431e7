// The one module that talks to the server: the signed-in person, the live connection (with
// catch-up from the last seq seen), and actions, which go through an outbox so that an action
// taken offline is kept, shown as waiting, and delivered exactly once (its idempotency key):
// over the open socket while there is one, over HTTP otherwise, in the outbox's one order.
import { io } from "/pwa/vendor/socket.io.esm.min.js";
import { deviceReport } from "./device.js";
import { connectAgainWhenAsked } from "./refusals.js";
import * as store from "./store.js";

const ACK_TIMEOUT_MS = 10_000; // no acknowledgement by then: the action waits for the next try

export class Server extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.state = null;
    this.lastSeq = null;
    this.connected = false;
    this.lostSince = null;
    this.flushing = false;
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  // Who is signed in on this phone: from the server, or as remembered when offline.
  async signIn() {
    try {
      const response = await fetch("/api/me", { cache: "no-store" });
      if (response.status === 401) return null;
      this.me = await response.json();
      await store.put("me", this.me);
    } catch {
      this.me = await store.get("me");
    }
    this.state = await store.get("state");
    this.lastSeq = this.state ? this.state.seq : null;
    return this.me;
  }

  async scripts() {
    try {
      const response = await fetch(`/api/sites/${this.me.site}/scripts`);
      if (response.ok) {
        const scripts = await response.json();
        await store.put("scripts", scripts);
        return scripts;
      }
    } catch {
      // offline: the copy from the last time
    }
    return store.get("scripts");
  }

  // The routes whose commands may go over the socket (the vocabulary's `socket_actions`:
  // command to route, `<zone>` or `<int:help_id>` a field of the URL).
  useSocketFor(socketActions = {}) {
    this.socketRoutes = Object.entries(socketActions).map(([command, route]) => {
      const fields = [];
      const pattern = route.replace(/<(?:(int):)?(\w+)>/g, (_, int, name) => {
        fields.push({ name, int: Boolean(int) });
        return "([^/]+)";
      });
      return { command, fields, match: new RegExp(`^${pattern}$`) };
    });
  }

  // The socket's `action` for an outbox item ({command, params} as the HTTP route would make
  // them, so that the idempotency key finds the same request either way), or null: a route
  // the socket does not take, or another site than the one this connection is on.
  socketAction(item) {
    for (const { command, fields, match } of this.socketRoutes || []) {
      const found = item.path.match(match);
      if (!found) continue;
      const params = { ...item.body };
      for (const [index, { name, int }] of fields.entries()) {
        const value = decodeURIComponent(found[index + 1]);
        if (name === "site") {
          if (value !== this.me.site) return null;
        } else {
          params[name] = int ? Number(value) : value;
        }
      }
      return { command, params, idempotency_key: item.key };
    }
    return null;
  }

  connect() {
    // auth is a function so that every reconnection sends the newest last_seq.
    this.socket = io({
      auth: (send) => deviceReport().then((device) => send(this.lastSeq === null ? device : { ...device, last_seq: this.lastSeq })),
      // With sites sharded over nodes, nginx routes the socket by its site (deploy/nginx.conf),
      // not only by the node cookie its enrollment link set.
      query: { site: this.me.site },
      transports: ["websocket", "polling"],
    });
    this.socket.on("connect", () => this.setConnected(true));
    this.socket.on("disconnect", () => this.setConnected(false));
    this.socket.on("connect_error", () => this.setConnected(false));
    connectAgainWhenAsked(this.socket);
    this.socket.on("state", (state) => this.receiveState(state));
    this.socket.on("event", (event) => this.receiveEvent(event));
    // A batch: events in seq order; a run this person may not read is one redacted range.
    this.socket.on("events", (events) => events.every((event) => this.receiveEvent(event)));
    // Every few seconds the site's newest seq: behind it, a message was lost on the way.
    this.socket.on("head", (head) => this.receiveHead(head));
    // The server's disk, for the managers' banner (screens/lowspace.js).
    this.socket.on("disk", (disk) => this.emit("disk", disk));
    addEventListener("online", () => this.flush());
  }

  setConnected(connected) {
    if (connected === this.connected) return;
    this.connected = connected;
    this.lostSince = connected ? null : Date.now();
    this.emit("connection", { connected });
    this.flush(); // the way for what waits changed: the socket now, or HTTP
  }

  async receiveState(state) {
    this.state = state;
    this.lastSeq = state.seq;
    await store.put("state", state);
    this.emit("state", state);
  }

  // false when a gap was found (the rest of a batch then waits for the catch-up).
  receiveEvent(event) {
    const last = event.last_seq ?? event.seq; // a redacted range covers seq..last_seq
    if (this.lastSeq !== null && last <= this.lastSeq) return true; // seen already
    if (this.lastSeq !== null && event.seq > this.lastSeq + 1) {
      this.socket.emit("sync", { last_seq: this.lastSeq }); // a gap: ask for what is missing
      return false;
    }
    this.lastSeq = last;
    this.emit("event", event);
    return true;
  }

  receiveHead(head) {
    if (this.lastSeq !== null && head.seq > this.lastSeq) {
      this.socket.emit("sync", { last_seq: this.lastSeq });
    }
  }

  // Send now, not through the outbox: starting or ending an incident must not happen later
  // by surprise, when a lost connection comes back. A failure is shown at once.
  // `label` names the action to the person (in their language) should it fail. Answers
  // the result, or null when refused or not sent.
  async send_now(path, body, label = path) {
    const item = { key: crypto.randomUUID(), label, path, body };
    const answer = await this.send(item);
    if (!answer) this.emit("refused", { label, offline: true });
    return answer?.result ?? null;
  }

  // Queue an action and try to send it now. `key` makes it idempotent across retries.
  async act(label, path, body = {}, key = crypto.randomUUID()) {
    await store.queue({ key, label, path, body, queuedAt: Date.now() });
    this.emit("outbox", await store.outbox());
    await this.flush();
  }

  // One flush at a time. An action queued while one runs (a tap on "got it" while the
  // delivery receipt is on its way) makes it go round again, so it does not wait for the
  // next reconnect.
  async flush() {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        for (const item of await store.outbox()) {
          // Not reached: keep the rest in order. Goes round again when the way changed
          // meanwhile (the socket dropped: over HTTP now).
          if (!(await this.send(item))) break;
        }
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
      this.emit("outbox", await store.outbox());
    }
  }

  // When the server has answered: {result} (null when refused); false when it could not be
  // reached. While the socket is up an action goes over it (answered by its acknowledgement),
  // otherwise over HTTP; the same idempotency key either way, so a retry the other way after
  // a lost answer is applied once.
  async send(item) {
    const action = this.connected ? this.socketAction(item) : null;
    const answer = action ? await this.sendOverSocket(action) : await this.sendOverHttp(item);
    if (!answer) return false;
    const { status, result, problem } = answer;
    // A full disk refuses all but the alarm's own commands (503 disk-full): that is said to
    // the person now, and the actions behind it in the outbox (an "I am safe") still go.
    const diskFull = problem?.type?.endsWith("/disk-full");
    if (status >= 500 && !diskFull) return false;
    await store.unqueue(item.key);
    if (!problem) {
      this.emit("done", { label: item.label, key: item.key, result });
      return { result };
    }
    // The screen says it in the person's language, from the status and the problem's
    // fields (the detail is the server's English, for the log and for scripts).
    this.emit("refused", { label: item.label, path: item.path, status, problem });
    return { result: null };
  }

  // {status, result} or {status, problem}; null when the server could not be reached.
  async sendOverHttp(item) {
    let response;
    try {
      response = await fetch(item.path, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": item.key,
          "X-CSRF-Token": this.me.csrf_token,
        },
        body: JSON.stringify(item.body),
      });
    } catch {
      return null;
    }
    if (response.ok) return { status: response.status, result: await response.json() };
    return { status: response.status, problem: await response.json().catch(() => ({})) };
  }

  // The same over the socket: no acknowledgement in time (the socket dropped on the way) is
  // not reached, and the action stays queued for the next way in.
  async sendOverSocket(action) {
    let answer;
    try {
      answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("action", action);
    } catch {
      return null;
    }
    if (answer?.ok) return { status: 200, result: answer.result };
    const problem = answer?.error || {};
    return { status: problem.status || 500, problem };
  }
}
