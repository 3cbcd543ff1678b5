// Server latency and throughput over real loopback sockets:
//   npm run bench:server
// 1. One room, one player: round trip from sending a step to its ack, and to
//    the update reaching a second member (the others' view of "whoever presses first").
// 2. Many rooms at once (ROOMS, default 50), three members each, two players
//    stepping in turn: actions a second across the server and the ack latency.
// Storage is SQLite in WAL mode in a temporary file, as `faultline serve` runs.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { startServer } from "../server/index.js";
import type { ServerMessage } from "../src/protocol/server.js";

type Msg = ServerMessage;

class Client {
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      const m = JSON.parse(String(d)) as Msg;
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
  }
  static async open(url: string, name: string): Promise<Client> {
    const ws = new WebSocket(url, ["faultline.v1"]);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    const c = new Client(ws);
    const w = c.wait((m) => m.type === "welcome");
    c.send({ type: "hello", protocol: [1], name });
    await w;
    return c;
  }
  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }
  wait(pred: (m: Msg) => boolean): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("bench: no reply within 10 s")), 10_000);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }
  async call(m: Record<string, unknown> & { type: string }, rid: number): Promise<Msg> {
    const p = this.wait((x) => "rid" in x && x.rid === rid);
    this.send({ ...m, rid });
    const r = await p;
    if (r.type === "error") throw new Error(`${m.type}: ${r.code} ${r.message}`);
    return r;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  const server = await startServer({ port: 0, db: join(dir, "bench.db"), timing: { botDelayMs: 0 }, limits: { messagesPerSecond: 1e6, messageBurst: 1e6, admissionsPerMinute: 1e6, admissionBurst: 1e6, roomsPerMinute: 1e6, roomBurst: 1e6 } });
  try {
    // 1. Round trips in one room. Step CPU0 then rewind it, so the level never ends.
    const a = await Client.open(server.url, "a");
    const b = await Client.open(server.url, "b");
    const j = (await a.call({ type: "create", level: "r5-six-steps" }, 1)) as Extract<Msg, { type: "joined" }>;
    await b.call({ type: "join", room: j.state.room.code }, 1);
    await a.call({ type: "claim", cpu: 0 }, 2);
    const acks: number[] = [];
    const seen: number[] = [];
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const seq = i;
      const t0 = performance.now();
      const other = b.wait((m) => m.type === "update" && m.seq === seq + 1);
      await a.call(i % 2 === 0 ? { type: "step", seq, cpu: 0 } : { type: "rewind", seq, steps: 1 }, 10 + i);
      acks.push(performance.now() - t0);
      await other;
      seen.push(performance.now() - t0);
    }
    console.log(`one room, ${N} actions in turn (r5-six-steps, SQLite WAL):`);
    console.log(`  step -> ack            p50 ${ms(pct(acks, 50))}  p99 ${ms(pct(acks, 99))}`);
    console.log(`  step -> other's update p50 ${ms(pct(seen, 50))}  p99 ${ms(pct(seen, 99))}`);

    // 2. Many rooms at once.
    const ROOMS = Number(process.env.ROOMS ?? 50);
    const ROUNDS = Number(process.env.ROUNDS ?? 40);
    const rooms: Client[][] = [];
    for (let r = 0; r < ROOMS; r++) {
      const ps = await Promise.all([0, 1, 2].map((k) => Client.open(server.url, `p${r}-${k}`)));
      const jj = (await ps[0].call({ type: "create", level: "r5-six-steps" }, 1)) as Extract<Msg, { type: "joined" }>;
      await Promise.all(ps.slice(1).map((p) => p.call({ type: "join", room: jj.state.room.code }, 1)));
      // Two players hold CPU0 and CPU1 (CPU2's process is not forked yet); the third watches.
      await Promise.all(ps.slice(0, 2).map((p, cpu) => p.call({ type: "claim", cpu }, 2)));
      rooms.push(ps);
    }
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      rooms.map(async (ps) => {
        let seq = 0;
        for (let i = 0; i < ROUNDS; i++) {
          // Each player in turn steps its CPU, then rewinds: the machine stays small and the level never ends.
          for (const [cpu, p] of ps.slice(0, 2).entries()) {
            for (const m of [{ type: "step", seq, cpu }, { type: "rewind", seq: seq + 1, steps: 1 }]) {
              const s = performance.now();
              await p.call(m, 100 + seq);
              lat.push(performance.now() - s);
              seq++;
            }
          }
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    console.log(`${ROOMS} rooms x 3 members (${ROOMS * 3} sockets), ${lat.length} actions, every update to 3 members:`);
    console.log(`  ${Math.round(lat.length / secs)} actions/s; ack p50 ${ms(pct(lat, 50))}  p99 ${ms(pct(lat, 99))}`);
    for (const ps of [[a, b], ...rooms]) for (const p of ps) p.ws.terminate();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
