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
export const outbox = () => run("outbox", "readonly", (s) => s.getAll());
export const queue = (item) => run("outbox", "readwrite", (s) => s.put(item));
export const unqueue = (key) => run("outbox", "readwrite", (s) => s.delete(key));
