// The reference for bench/bench_production.py: a bare Node socket.io server (no log, no
// database, no rooms, no message queue) that emits one message to every connected client when
// POST /fire is called, padded to the length of Exit Now's incident.started frame.
//
//     node bench/node_reference/server.js PORT PADDING_BYTES
//
// Listens on 127.0.0.1 only, with the same listen backlog as Exit Now's workers. `npm ci` in
// this folder installs socket.io (node_modules is not committed).

"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const padding = "x".repeat(Number(process.argv[3] || 0));

const server = http.createServer((request, response) => {
  if (request.method === "POST" && request.url === "/fire") {
    io.emit("event", { seq: 1, type: "incident.started", padding });
  } else if (request.url !== "/healthz") {
    response.writeHead(404).end();
    return;
  }
  request.resume(); // a body, if any, is read and dropped
  response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
});

const io = new Server(server, { serveClient: false });

server.listen({ port, host: "127.0.0.1", backlog: 2048 }, () => {
  console.log(`node socket.io reference on http://127.0.0.1:${port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
