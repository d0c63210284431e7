// IndexedDB: what the app must still know with the network gone. The schema has a version and
// one upgrade step per version; add a step, never edit an old one.
const DB_NAME = "exitnow";
const DB_VERSION = 1;
const UPGRADES = {
  1: (db) => {
    db.createObjectStore("kv"); // me, state, scripts, last language
    db.createObjectStore("outbox", { keyPath: "key" }); // actions waiting to be sent
  },
};

let opening = null;

function database() {
  opening ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      for (let version = event.oldVersion + 1; version <= DB_VERSION; version++) {
        UPGRADES[version](request.result);
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function run(storeName, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = work(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

export const get = (key) => run("kv", "readonly", (s) => s.get(key));
export const put = (key, value) => run("kv", "readwrite", (s) => s.put(value, key));
// The actions waiting, in the order the person took them (`order`; an item kept before it
// had one goes first, by when it was queued). Keys are random: the store's own order is not.
export async function outbox() {
  const items = await run("outbox", "readonly", (s) => s.getAll());
  return items.sort((a, b) => (a.order ?? 0) - (b.order ?? 0) || (a.queuedAt ?? 0) - (b.queuedAt ?? 0));
}

// Queue an action after every other one this phone has queued: its number comes from a counter
// kept in the same transaction. An action already waiting under the same key keeps its place
// (the delivery receipt queued again after a reload must not move behind "got it").
export async function queue(item) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(["kv", "outbox"], "readwrite");
    const kv = transaction.objectStore("kv");
    const outboxStore = transaction.objectStore("outbox");
    const waiting = outboxStore.get(item.key);
    waiting.onsuccess = () => {
      if (waiting.result) return;
      const last = kv.get("outbox_order");
      last.onsuccess = () => {
        const order = (last.result || 0) + 1;
        kv.put(order, "outbox_order");
        outboxStore.put({ ...item, order });
      };
    };
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}
export const unqueue = (key) => run("outbox", "readwrite", (s) => s.delete(key));
