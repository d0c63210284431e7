// The reference for bench/bench_delivery.py and bench/bench_production.py: a bare Node
// socket.io server (no log, no database, no rooms) that emits one message to every connected
// client when POST /fire is called, padded to the length of Exit Now's incident.started frame.
//
//     node bench/node_reference/server.js PORT PADDING_BYTES [REDIS_URL]
//
// With REDIS_URL it is one process of a cluster: socket.io's Redis adapter
// (@socket.io/redis-adapter) carries each emit to the other processes through that Redis, as
// python-socketio's RedisManager carries Exit Now's between its workers, so an alarm POSTed to
// one process reaches every process's clients.
//
// Listens on 127.0.0.1 only, with the same listen backlog as Exit Now's workers. `npm ci` in
// this folder installs socket.io (node_modules is not committed).

"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const padding = "x".repeat(Number(process.argv[3] || 0));
const redisUrl = process.argv[4];

const server = http.createServer((request, response) => {
  if (request.method === "POST" && request.url === "/fire") {
    io.emit("event", { seq: 1, type: "incident.started", padding });
  } else if (request.url !== "/healthz") {
    response.writeHead(404).end();
    return;
  }
  request.resume(); // a body, if any, is read and dropped
  const answer = { ok: true, clients: io.engine.clientsCount }; // this process's own sockets
  response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
});

const io = new Server(server, { serveClient: false });

async function start() {
  if (redisUrl) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const publisher = createClient({ url: redisUrl });
    const subscriber = publisher.duplicate();
    await Promise.all([publisher.connect(), subscriber.connect()]);
    io.adapter(createAdapter(publisher, subscriber));
  }
  server.listen({ port, host: "127.0.0.1", backlog: 2048 }, () => {
    const cluster = redisUrl ? ` (Redis adapter: ${redisUrl})` : "";
    console.log(`node socket.io reference on http://127.0.0.1:${port}${cluster}`);
  });
}

start().catch((error) => {
  console.error(error);
  process.exit(1);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
