// Issue 20's scenario against a real `faultline serve` process: N idle connections from one
// address (127.0.0.1, each saying hello and then nothing), then a client from another loopback
// address (127.0.0.2) says hello and creates a room. Prints how many of the N the server held,
// how the rest were refused, how long the other client took, and /health.
//
//   npm run build && node dist/bench/flood.js [--connections 1000] [--nofile 1024]
//
// --nofile runs the server under `prlimit --nofile=N:N` (util-linux), the common default limit.

import { spawn } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";

const { values } = parseArgs({ options: { connections: { type: "string", default: "1000" }, nofile: { type: "string", default: "1024" } } });
const N = Number(values.connections);
const nofile = Number(values.nofile);
const BIN = join(import.meta.dirname, "..", "src", "cli", "main.js");

function open(url: string, localAddress: string): Promise<{ status: number; ws: WebSocket | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ["faultline.v1"], { localAddress });
    ws.once("open", () => resolve({ status: 101, ws }));
    ws.once("unexpected-response", (_q, res) => {
      resolve({ status: res.statusCode ?? 0, ws: null });
      ws.terminate();
    });
    ws.once("error", () => resolve({ status: 0, ws: null }));
  });
}

function next(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      if (m.type === type || m.type === "error") {
        ws.off("message", on);
        resolve(m);
      }
    };
    ws.on("message", on);
  });
}

function health(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", localAddress: "127.0.0.3", agent: false }, (res) => {
      let t = "";
      res.on("data", (d) => (t += d));
      res.on("end", () => resolve(`${res.statusCode} ${t}`));
    });
    req.on("error", (e) => resolve(`error ${e.message}`));
    req.end();
  });
}

const dir = mkdtempSync(join(tmpdir(), "faultline-flood-"));
const child = spawn("prlimit", [`--nofile=${nofile}:${nofile}`, process.execPath, BIN, "serve", "--port", "0", "--db", join(dir, "f.db")], { stdio: ["ignore", "pipe", "pipe"] });
let err = "";
child.stderr.on("data", (d) => (err += d));
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  const t = setTimeout(() => reject(new Error(`no serving line: ${out} ${err}`)), 15_000);
  child.stdout.on("data", (d) => {
    out += d;
    const m = /serving on (ws:\/\/\S+)/.exec(out);
    if (m) {
      clearTimeout(t);
      resolve(m[1]);
    }
  });
});
const port = Number(new URL(url).port);
const results = await Promise.all(Array.from({ length: N }, () => open(url, "127.0.0.1")));
const held = results.filter((r) => r.ws);
await Promise.all(held.map(async (r) => {
  r.ws!.send(JSON.stringify({ type: "hello", protocol: [1], name: "idle" }));
  await next(r.ws!, "welcome");
}));
const refused: Record<string, number> = {};
for (const r of results) if (!r.ws) refused[r.status] = (refused[r.status] ?? 0) + 1;
const t0 = performance.now();
const other = await open(url, "127.0.0.2");
let served = "refused";
if (other.ws) {
  other.ws.send(JSON.stringify({ type: "hello", protocol: [1], name: "student" }));
  await next(other.ws, "welcome");
  other.ws.send(JSON.stringify({ type: "create", level: "basics-lost-update", rid: 1 }));
  served = String((await next(other.ws, "joined")).type);
}
const ms = performance.now() - t0;
const h = await health(port);
console.log(JSON.stringify({ connections: N, nofile, held: held.length, refused, otherAddress: { served, ms: Math.round(ms * 10) / 10 }, health: h, serverStderr: err.trim().split("\n") }, null, 2));
for (const r of held) r.ws!.terminate();
other.ws?.terminate();
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
rmSync(dir, { recursive: true, force: true });
