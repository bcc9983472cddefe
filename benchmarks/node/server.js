// The Node.js peer of the benchmark: socket.io 4.8 with the chat's shapes.
//
//   node benchmarks/node/server.js --port 0     # prints "listening on http://..."
//
// `join` enters the room and acks like the chat; `message` broadcasts the
// message to the room and acks it; no validation, storage or presence; a
// `/clock` namespace ticks every second, as the chat's does. Installed with
// `npm ci` from this folder's package-lock.json (benchmarks/procs.py does it).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false, cors: { origin: "*" } });
let ids = 0;

io.on("connection", (socket) => {
  const name = (socket.handshake.auth && socket.handshake.auth.name) || "anon";
  socket.on("join", (data, ack) => {
    socket.join(data.room);
    if (typeof ack === "function") {
      ack({ ok: true, room: data.room, members: [], history: [], more: false });
    }
  });
  socket.on("message", (data, ack) => {
    const msg = { id: ++ids, room: data.room, name, text: data.text, ts: Date.now() };
    io.to(data.room).emit("message", msg);
    if (typeof ack === "function") ack({ ok: true, message: msg });
  });
});

const clock = io.of("/clock");
function tick() {
  const now = Date.now();
  clock.emit("tick", { ts: now, iso: "" });
  setTimeout(tick, 1000 - (Date.now() % 1000));
}
setTimeout(tick, 1000 - (Date.now() % 1000));

httpServer.listen(port, "127.0.0.1", () => {
  console.log("listening on http://127.0.0.1:" + httpServer.address().port);
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
