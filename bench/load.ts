// Server load against the floor, in one run:
//   npm run bench:load [-- --clients 100,500,1000 --seconds 20 --warmup 5 --storage sqlite|memory --profile]
//
// For each N: the Faultline server in a child process, and the load generator
// (bench/load-client.ts) in another, N real WebSocket clients on 127.0.0.1 in
// rooms of 4, 2 actions a second per client. Measured: the time from an
// action being sent to every member of its room having the new state
// (p50, p99, max), the sender's ack, and the server's CPU and RSS (/proc).
// Then the same generator against the floor (bench/floor.ts: a bare ws server
// doing the same fan-out, of updates the same size, with no game logic), and
// our p99 as a multiple of the floor's. The memory figures (per connection,
// per idle room, per active room) come from the largest N's server, after a
// full GC at each stage. Writes bench/load-results.json.
//
// This process only coordinates: the server and the generator are the two
// busy processes, and on a 2-core machine they compete for both cores.
// --pin puts the server on CPU 0 and the generator on CPU 1 (taskset); on the
// 2-core machine this was worse (each process's GC threads then share its core).
//
// For investigation (none changes what the default run measures, except RESET_EVERY):
//   FAULTLINE_LOAD_TRACE=PREFIX        the generator writes every measured action to PREFIX-<kind>-<N>.txt
//   FAULTLINE_LOAD_STALLS=PREFIX       the server child logs event-loop stalls and GC pauses to PREFIX-<kind>.txt,
//                                      and times every frame and storage transaction (PREFIX-handlers.txt)
//   FAULTLINE_LOAD_SERVER_ARGS="..."   extra node flags for the server child (e.g. --trace-gc)
//   FAULTLINE_LOAD_RESET_EVERY=K       rooms reset their attempt after K steps (short machine histories)
//   FAULTLINE_LOAD_WAL_CHECKPOINT=P    SQLite wal_autocheckpoint in pages (default 4000; a worker thread checkpoints every 50 ms)

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kib, LOAD_LEVEL, mib, ROOM_SIZE, STEPS_PER_MEMBER_PER_SECOND } from "./load-common.js";
import { machine, investigation, runLoad, warnInvestigation, type Mem, type RunResult } from "./load-run.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET_P99_MS = 10;
const TARGET_RATIO = 1.5;

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
}

export function printRuns(runs: RunResult[]): void {
  const w = [7, 6, 9, 7, 7, 8, 8, 10, 10, 9, 9, 8, 9, 5, 6];
  console.log(row(["clients", "server", "actions/s", "p50 ms", "p99 ms", "max ms", "ack p99", "server CPU", "server RSS", "srv lag99", "srv lagmax", "gen CPU", "gen lag99", "late", "errors"], w));
  for (const r of runs) {
    const x = r.window;
    const errors = Object.values(x.errors).reduce((a, b) => a + b, 0) + r.unfinished;
    console.log(
      row(
        [r.clients, r.kind, Math.round(x.actionsPerSecond), f2(x.all.p50), f2(x.all.p99), f1(x.all.max), f2(x.ack.p99), `${Math.round(r.serverCpu)}%`, `${f1(mib(r.serverRss))} MiB`, f2(r.serverLag.p99), f1(r.serverLag.max), `${Math.round(r.generatorCpu)}%`, f2(x.loopDelayP99), x.late, errors],
        w,
      ),
    );
  }
}

function perUnit(a: Mem, b: Mem, n: number) {
  return { rssKiB: kib(b.rss - a.rss) / n, heapKiB: kib(b.heapUsed - a.heapUsed) / n, externalKiB: kib(b.external - a.external) / n };
}

async function main() {
  const clients = flag("clients", "100,500,1000").split(",").map(Number);
  const warmupS = Number(flag("warmup", "5"));
  const measureS = Number(flag("seconds", "20"));
  const storage = flag("storage", "sqlite");
  const profile = process.argv.includes("--profile");
  const pin = process.argv.includes("--pin");
  const profileDir = profile ? join(root, "bench", "profiles") : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const m = machine();
  warnInvestigation();
  console.log(`Server load: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}`);
  console.log(`${ROOM_SIZE} members a room on ${LOAD_LEVEL} (3 players holding CPUs 0-2, 1 watching), ${STEPS_PER_MEMBER_PER_SECOND} actions a second per member (${ROOM_SIZE * STEPS_PER_MEMBER_PER_SECOND} a room); retry when an attempt ends`);
  console.log(`latency: step sent -> all ${ROOM_SIZE} members have the update (from its tick if held back behind the room's previous action); server and generator are separate processes sharing ${m.cores} cores`);
  const runs: RunResult[] = [];
  const log = (s: string) => console.log(s);
  let note = "";
  for (const n of clients) {
    console.log(`N = ${n}`);
    const game = await runLoad("game", { clients: n, warmupS, measureS, intervalS: 0, storage, profileDir, pin, log });
    note = game.note;
    runs.push(game);
    const floor = await runLoad("floor", { clients: n, warmupS, measureS, intervalS: 0, storage, updateBytes: game.window.meanUpdateBytes, pin, log });
    runs.push(floor);
  }
  console.log("");
  console.log(`server: ${note}`);
  console.log(`floor: bare ws, updates padded to the server's mean update size (${Math.round(runs[0].window.meanUpdateBytes)} bytes)`);
  console.log("");
  printRuns(runs);
  console.log("(late: actions sent after their tick because the room's previous one was still in flight; latency counts from the tick.)");
  console.log("");
  const ratios = clients.map((n) => {
    const g = runs.find((r) => r.clients === n && r.kind === "game")!;
    const fl = runs.find((r) => r.clients === n && r.kind === "floor")!;
    return { clients: n, p99: g.window.all.p99, floorP99: fl.window.all.p99, ratio: g.window.all.p99 / fl.window.all.p99 };
  });
  for (const r of ratios) console.log(`N = ${String(r.clients).padStart(4)}: p99 ${f2(r.p99)} ms = ${f2(r.ratio)}x the floor's ${f2(r.floorP99)} ms`);
  const big = ratios.find((r) => r.clients === 1000);
  if (big) {
    console.log(`targets at 1,000 clients: p99 <= ${TARGET_P99_MS} ms: ${big.p99 <= TARGET_P99_MS ? "met" : "MISSED"} (${f2(big.p99)} ms); <= ${TARGET_RATIO}x the floor: ${big.ratio <= TARGET_RATIO ? "met" : "MISSED"} (${f2(big.ratio)}x)`);
  }

  // Memory, from the largest N's server (after a full GC at each stage).
  const g = runs.filter((r) => r.kind === "game").sort((a, b) => b.clients - a.clients)[0];
  const memory = {
    clients: g.clients,
    rooms: g.rooms,
    baseline: { rssMiB: mib(g.mem.start.rss), heapMiB: mib(g.mem.start.heapUsed) },
    perConnection: perUnit(g.mem.start, g.mem.connected, g.clients),
    perIdleRoom: perUnit(g.mem.connected, g.mem.seated, g.rooms),
    perActiveRoom: perUnit(g.mem.connected, g.mem.played, g.rooms),
  };
  console.log("");
  console.log(`memory (server with ${g.clients} clients, ${g.rooms} rooms; RSS from /proc, heap after a full GC):`);
  console.log(`  baseline (campaign loaded, no clients): RSS ${f1(memory.baseline.rssMiB)} MiB, heap ${f1(memory.baseline.heapMiB)} MiB`);
  console.log(`  per connection (hello, no room):         RSS ${f1(memory.perConnection.rssKiB)} KiB, heap ${f1(memory.perConnection.heapKiB)} KiB`);
  console.log(`  per idle room (created, 4 joined, 3 seated, not played; connections excluded): RSS ${f1(memory.perIdleRoom.rssKiB)} KiB, heap ${f1(memory.perIdleRoom.heapKiB)} KiB`);
  console.log(`  per active room (after ${warmupS + measureS} s of play, mid-attempt; connections excluded): RSS ${f1(memory.perActiveRoom.rssKiB)} KiB, heap ${f1(memory.perActiveRoom.heapKiB)} KiB`);

  const out = join(root, "bench", "load-results.json");
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        config: { clients, warmupS, measureS, storage, pin, level: LOAD_LEVEL, roomSize: ROOM_SIZE, actionsPerMemberPerSecond: STEPS_PER_MEMBER_PER_SECOND, server: note, investigation: investigation() },
        targets: { p99Ms: TARGET_P99_MS, ratioToFloor: TARGET_RATIO },
        ratios,
        memory,
        runs,
      },
      null,
      2,
    ) + "\n",
  );
  warnInvestigation();
  console.log(`\nwrote ${out}${profileDir ? `; server CPU profiles in ${profileDir}` : ""}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
