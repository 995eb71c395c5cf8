// The hostile clients of the soak (scripts/soak): run side by side with the
// normal load until the time is up, then close every socket they still hold
// and print one line for the driver:
//   SOAK-HOSTILE slowloris=N slowloris_cut_by_server=N cut_bodies=N unread_lists=N
//                garbage=N garbage_400=N churn=N connect_errors=N
//
//   node tests/soak/hostile.mjs PORT SECONDS
//
// What each kind does, in a loop (all on 127.0.0.1, so the server must not
// cap connections per client below ~100):
//   slowloris     8 at once: a request line and headers sent one byte every
//                 100 ms, never finished; after 20-80 bytes either abandoned
//                 (closed) or left open until the server cuts it
//                 (REQUEST_TIMEOUT), one in three.
//   cut bodies    2 at once: POST /api/users/ with Content-Length 1048576,
//                 900 KiB of body sent, then the connection closed.
//   unread lists  2 at once: 300 pipelined GET /api/users/ never read (the
//                 server's writes stall on full socket buffers), closed after
//                 2-5 s.
//   garbage       512 random bytes and a blank line; the answer (400) read,
//                 then closed.
//   churn         20 connections opened at once and closed at once, half of
//                 them after half a request line.
// Only the node: standard library (Node 18 or later).
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const port = Number(process.argv[2]);
const seconds = Number(process.argv[3]);
if (!Number.isInteger(port) || port <= 0 || !(seconds > 0)) {
  console.error('usage: node hostile.mjs PORT SECONDS');
  process.exit(2);
}
const deadline = Date.now() + seconds * 1000;
const running = () => Date.now() < deadline;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const stats = {
  slowloris: 0, slowloris_cut_by_server: 0, cut_bodies: 0, unread_lists: 0,
  garbage: 0, garbage_400: 0, churn: 0, connect_errors: 0,
};
const open = new Set();

// A connected socket, or null (counted) when the connection failed.
function connect() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.once('connect', () => resolve(socket));
    socket.on('error', () => {
      if (socket.connecting) { stats.connect_errors++; resolve(null); }
    });
  });
}
// Resolves when the socket closes, or after ms (then false).
function closed(socket, ms) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}
const write = (socket, data) => new Promise((resolve) => {
  if (socket.destroyed) return resolve(false);
  socket.write(data, (error) => resolve(!error));
});
const pick = (low, high) => low + Math.floor(Math.random() * (high - low + 1));

async function slowloris() {
  while (running()) {
    const socket = await connect();
    if (!socket) { await sleep(200); continue; }
    socket.resume(); // whatever the server sends (nothing, or a close)
    const text = 'GET /api/users/1/ HTTP/1.1\r\nHost: soak\r\nUser-Agent: slowloris\r\nX-Padding: ' + 'a'.repeat(80);
    const bytes = pick(20, 80);
    let sent = 0;
    for (; sent < bytes && running() && !socket.destroyed; sent++) {
      await write(socket, text[sent]);
      await sleep(100);
    }
    stats.slowloris++;
    if (Math.random() < 1 / 3) {
      if (await closed(socket, Math.max(0, deadline - Date.now()))) stats.slowloris_cut_by_server++;
    }
    socket.destroy();
  }
}

async function cutBody() {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  while (running()) {
    const socket = await connect();
    if (!socket) { await sleep(200); continue; }
    socket.resume();
    await write(socket, 'POST /api/users/ HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n' +
      'Content-Length: 1048576\r\n\r\n');
    for (let sent = 0; sent < 900 * 1024 && !socket.destroyed; sent += chunk.length) {
      await write(socket, sent + chunk.length > 900 * 1024 ? chunk.subarray(0, 900 * 1024 - sent) : chunk);
    }
    socket.destroy();
    stats.cut_bodies++;
    await sleep(100);
  }
}

async function unreadList() {
  const request = 'GET /api/users/ HTTP/1.1\r\nHost: soak\r\nAccept: application/json\r\n\r\n';
  while (running()) {
    const socket = await connect();
    if (!socket) { await sleep(200); continue; }
    socket.pause(); // never read: the answers pile up in the socket buffers
    socket.write(request.repeat(300));
    await closed(socket, pick(2000, 5000));
    socket.destroy();
    stats.unread_lists++;
  }
}

async function garbage() {
  while (running()) {
    const socket = await connect();
    if (!socket) { await sleep(200); continue; }
    let answer = '';
    socket.on('data', (data) => { if (answer.length < 64) answer += data.toString('latin1'); });
    socket.write(Buffer.concat([randomBytes(512), Buffer.from('\r\n\r\n')]));
    await closed(socket, 2000);
    if (answer.startsWith('HTTP/1.1 400')) stats.garbage_400++;
    socket.destroy();
    stats.garbage++;
    await sleep(50);
  }
}

async function churn() {
  while (running()) {
    const sockets = await Promise.all(Array.from({ length: 20 }, connect));
    sockets.forEach((socket, i) => {
      if (!socket) return;
      if (i % 2) socket.write('GET /api/us');
      socket.destroy();
      stats.churn++;
    });
    await sleep(100);
  }
}

const workers = [
  ...Array.from({ length: 8 }, slowloris),
  cutBody(), cutBody(),
  unreadList(), unreadList(),
  garbage(),
  churn(),
];
// Past the deadline nobody waits for a slow close: everything still open goes.
const stop = setTimeout(() => { for (const socket of open) socket.destroy(); }, seconds * 1000 + 100);
await Promise.all(workers);
clearTimeout(stop);
for (const socket of open) socket.destroy();
console.log('SOAK-HOSTILE ' + Object.entries(stats).map(([k, v]) => `${k}=${v}`).join(' '));
