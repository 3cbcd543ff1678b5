// Defend rooms under load (issue 13), in one run:
//   npm run bench:defend [-- --seconds 20 --warmup 6 --hunt-rooms 100 --defend-clients 300 --storage sqlite|memory]
//
// Each stage forks the server child (bench/load-server.ts, as bench:load does)
// and a load generator (bench/defend-client.ts), and this process probes the
// server with one more connection that sends `ping` every 50 ms and times each
// `pong` (this process does nothing else, so its own delay is small). Stages:
//   baseline  100 hunt rooms of 1-4 clients (r5-six-steps, manual; the bench:load workload)
//   A         the same hunt rooms beside 300 clients in adversary rooms on finale-rdma,
//             the rooms spread over its 6 knob settings
//   B         the same hunt rooms beside 300 clients in adversary rooms on every defend
//             level of the campaign, each room on one of its level's settings in turn
//   floor     the A workload against the bare ws floor (bench/floor.ts): what Node, ws and
//             loopback cost on this machine with the generator on the same cores
// Reported: hunt-room and defend-room latency (p50/p99/max), the ping probe, the
// server's CPU, RSS and event-loop delay. Targets: defend-room step p99 <= 20 ms;
// hunt-room p99 within 1.5x of the baseline of the same run; no pong later than 50 ms.
// Writes bench/defend-results.json.

import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { roomPlans, type DefendFromClient, type DefendToClient, type DefendWindow, type Scenario } from "./defend-common.js";
import { mib, procCpuSeconds, procRss, summarize, type ServerKind, type Summary } from "./load-common.js";
import { Child, forkServer, investigation, machine, warnInvestigation } from "./load-run.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const TARGET_DEFEND_P99_MS = 20;
const TARGET_HUNT_RATIO = 1.5;
const TARGET_PING_MAX_MS = 50;
const PING_EVERY_MS = 50;

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the ping probe

interface PingResult {
  /** From the first ping after connecting until the measured window: seating, solving, warm-up. */
  setup: Summary;
  window: Summary;
  over50: { setup: number; window: number };
  /** Pings never answered (by the end of the stage), and refusals (rate-limited). */
  lost: number;
  refused: number;
}

class Probe {
  private ws: WebSocket | null = null;
  private sent = new Map<number, number>();
  private next = 1;
  private timer: NodeJS.Timeout | null = null;
  private phase: "setup" | "window" | "after" = "setup";
  private s = { setup: [] as number[], window: [] as number[] };
  private refused = 0;

  async start(url: string): Promise<void> {
    const ws = new WebSocket(url, ["faultline.v1"], { perMessageDeflate: false });
    this.ws = ws;
    ws.on("error", () => {});
    await new Promise<void>((res, rej) => {
      ws.once("open", () => res());
      ws.once("error", rej);
    });
    await new Promise<void>((res) => {
      ws.once("message", () => res()); // welcome (a hello keeps the connection past the hello deadline)
      ws.send(JSON.stringify({ type: "hello", protocol: [1], name: "probe" }));
    });
    ws.on("message", (d) => {
      const now = performance.now();
      const m = JSON.parse(String(d)) as { type: string; t?: number };
      if (m.type === "pong" && m.t !== undefined) {
        const t = this.sent.get(m.t);
        if (t === undefined) return;
        this.sent.delete(m.t);
        if (this.phase !== "after") this.s[this.phase].push(now - t);
      } else if (m.type === "error") this.refused++;
    });
    // Pings at fixed times (every 50 ms from the start: 20 a second, the per-connection rate).
    const t0 = performance.now();
    let k = 0;
    const tick = () => {
      const id = this.next++;
      this.sent.set(id, performance.now());
      ws.send(JSON.stringify({ type: "ping", t: id }));
      k++;
      this.timer = setTimeout(tick, Math.max(0, t0 + k * PING_EVERY_MS - performance.now()));
    };
    tick();
  }

  window(on: boolean): void {
    this.phase = on ? "window" : "after";
  }

  async stop(): Promise<PingResult> {
    if (this.timer) clearTimeout(this.timer);
    await sleep(200);
    this.ws?.close(4000);
    const over = (xs: number[]) => xs.filter((v) => v > TARGET_PING_MAX_MS).length;
    return { setup: summarize(this.s.setup), window: summarize(this.s.window), over50: { setup: over(this.s.setup), window: over(this.s.window) }, lost: this.sent.size, refused: this.refused };
  }
}

// ---------------------------------------------------------------- one stage

interface Stage {
  name: string;
  kind: ServerKind;
  scenario: Scenario;
}

interface StageResult extends Stage {
  clients: number;
  rooms: number;
  huntRooms: number;
  defendRooms: number;
  connectMs: number;
  seatMs: number;
  solverAtStart: Record<string, number>;
  window: DefendWindow;
  unfinished: number;
  ping: PingResult;
  serverCpu: number;
  generatorCpu: number;
  serverRss: number;
  serverLag: { p50: number; p99: number; max: number };
}

async function runStage(st: Stage, o: { warmupS: number; measureS: number; storage: string; huntRooms: number; defendClients: number; updateBytes?: number }): Promise<StageResult> {
  const server = forkServer(st.kind, { storage: o.storage, updateBytes: o.updateBytes });
  const client = new Child<DefendToClient, DefendFromClient>("defend generator", fork(join(here, "defend-client.js"), [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const probe = new Probe();
  try {
    const { url } = await server.next("listening", 30_000);
    await probe.start(url);
    client.send({ type: "connect", url, scenario: st.scenario, huntRooms: o.huntRooms, defendClients: st.scenario === "none" ? 0 : o.defendClients });
    const c = await client.next("connected", 120_000);
    client.send({ type: "rooms" });
    const s = await client.next("seated", 120_000);
    const plans = roomPlans(st.scenario, o.huntRooms, st.scenario === "none" ? 0 : o.defendClients);
    const defendRooms = plans.filter((p) => p.kind === "defend").length;
    console.log(`  ${st.name}: ${c.clients} clients connected in ${(c.ms / 1000).toFixed(1)} s, ${s.rooms} rooms (${defendRooms} defend) seated in ${(s.ms / 1000).toFixed(1)} s; warming up ${o.warmupS} s, measuring ${o.measureS} s`);
    client.send({ type: "play", warmupS: o.warmupS, measureS: o.measureS });
    const ms = await client.next("measure-start", (o.warmupS + 60) * 1000);
    probe.window(true);
    server.send({ type: "lag", reset: true });
    await server.next("lag");
    const t0 = performance.now();
    const s0 = procCpuSeconds(server.pid);
    const g0 = procCpuSeconds(client.pid);
    await client.next("measure-end", (o.measureS + 60) * 1000);
    probe.window(false);
    const secs = (performance.now() - t0) / 1000;
    const serverCpu = ((procCpuSeconds(server.pid) - s0) / secs) * 100;
    const generatorCpu = ((procCpuSeconds(client.pid) - g0) / secs) * 100;
    const rss = procRss(server.pid).rss;
    server.send({ type: "lag", reset: false });
    const lag = await server.next("lag");
    const r = await client.next("result", 60_000);
    const ping = await probe.stop();
    return {
      ...st,
      clients: c.clients,
      rooms: s.rooms,
      huntRooms: o.huntRooms,
      defendRooms,
      connectMs: c.ms,
      seatMs: s.ms,
      solverAtStart: ms.solver,
      window: r.window,
      unfinished: r.unfinished,
      ping,
      serverCpu,
      generatorCpu,
      serverRss: rss,
      serverLag: { p50: lag.p50, p99: lag.p99, max: lag.max },
    };
  } finally {
    await probe.stop().catch(() => undefined);
    await client.stop({ type: "quit" });
    await server.stop({ type: "stop" });
  }
}

// ---------------------------------------------------------------- main

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const lat = (s: Summary) => `${f2(s.p50)} / ${f2(s.p99)} / ${f1(s.max)}`;

function printStages(rs: StageResult[]): void {
  const w = [9, 6, 7, 22, 7, 22, 7, 22, 5, 7, 8, 9, 8, 7, 7];
  const row = (cells: (string | number)[]) => cells.map((x, i) => (i < 1 ? String(x).padEnd(w[i]) : String(x).padStart(w[i]))).join("  ");
  console.log(row(["stage", "server", "clients", "hunt p50/p99/max ms", "n", "defend step p50/p99/max", "n", "ping p50/p99/max ms", ">50", "srv CPU", "srv RSS", "srv lag99", "gen CPU", "gen lag", "errors"]));
  for (const r of rs) {
    const x = r.window;
    console.log(
      row([r.name, r.kind, r.clients, lat(x.hunt), x.hunt.count, lat(x.defendStep), x.defendStep.count, lat(r.ping.window), r.ping.over50.window, `${Math.round(r.serverCpu)}%`, `${f1(mib(r.serverRss))} MiB`, f2(r.serverLag.p99), `${Math.round(r.generatorCpu)}%`, f2(x.loopDelayP99), sum(x.errors.hunt) + sum(x.errors.defend)]),
    );
  }
}

async function main() {
  const warmupS = Number(flag("warmup", "6"));
  const measureS = Number(flag("seconds", "20"));
  const storage = flag("storage", "sqlite");
  const huntRooms = Number(flag("hunt-rooms", "100"));
  const defendClients = Number(flag("defend-clients", "300"));
  const m = machine();
  const loadBefore = loadavg();
  warnInvestigation();
  console.log(`Defend rooms under load: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")} before the run (other work on the machine shares its cores)`);
  console.log(`${huntRooms} hunt rooms of 1-4 clients (r5-six-steps, manual, 2 actions a second per client); ${defendClients} clients in adversary rooms (A: finale-rdma, its 6 settings; B: every defend level), each stepping its own CPU when it can run, twice a second; a ping probe every ${PING_EVERY_MS} ms`);
  const o = { warmupS, measureS, storage, huntRooms, defendClients };
  const stages: Stage[] = [
    { name: "baseline", kind: "game", scenario: "none" },
    { name: "A", kind: "game", scenario: "A" },
    { name: "B", kind: "game", scenario: "B" },
  ];
  const results: StageResult[] = [];
  for (const st of stages) results.push(await runStage(st, o));
  const a = results[1];
  const updateBytes = Math.round((a.window.meanHuntUpdateBytes * a.window.hunt.count + a.window.meanDefendUpdateBytes * (a.window.defendStep.count + a.window.botMoves)) / Math.max(1, a.window.hunt.count + a.window.defendStep.count + a.window.botMoves));
  results.push(await runStage({ name: "floor", kind: "floor", scenario: "A" }, { ...o, updateBytes }));

  console.log("");
  printStages(results);
  console.log("(hunt: step sent, or its tick when held back -> every member has the update; defend step: a player's step sent -> every member has an update as new as its ack; n: samples in the window)");
  console.log("");
  for (const r of results) {
    const x = r.window;
    console.log(
      `${r.name.padEnd(9)} defend ack p99 ${f2(x.defendAck.p99)} ms; knob/retry p50/p99/max ${lat(x.defendOther)} ms (n ${x.defendOther.count}); bot moves ${x.botMoves}, defend retries ${x.defendRetries}, knobs ${x.knobs}, busy ${x.busy}, stalled steps ${x.stallSteps}; hunt late ${x.late}, retries ${x.huntRetries}; resyncs ${x.resyncs}; errors hunt ${JSON.stringify(x.errors.hunt)} defend ${JSON.stringify(x.errors.defend)}${x.errorSamples.length ? ` (first: ${x.errorSamples.join("; ")})` : ""}; unfinished ${r.unfinished}; solver at start ${JSON.stringify(r.solverAtStart)}, at end ${JSON.stringify(x.solverAtEnd)}; ping before the window p50/p99/max ${lat(r.ping.setup)} ms (>50: ${r.ping.over50.setup}), lost ${r.ping.lost}, refused ${r.ping.refused}; srv lag max ${f1(r.serverLag.max)} ms; mean update ${Math.round(x.meanHuntUpdateBytes)} B hunt, ${Math.round(x.meanDefendUpdateBytes)} B defend`,
    );
  }
  console.log(`floor: bare ws, updates padded to ${updateBytes} bytes (the A stage's mean)`);
  console.log("");
  const base = results[0].window.hunt.p99;
  const targets = results
    .filter((r) => r.kind === "game" && r.scenario !== "none")
    .map((r) => {
      const ratio = r.window.hunt.p99 / base;
      const t = {
        stage: r.name,
        defendStepP99: r.window.defendStep.p99,
        defendMet: r.window.defendStep.p99 <= TARGET_DEFEND_P99_MS,
        huntP99: r.window.hunt.p99,
        baselineHuntP99: base,
        huntRatio: ratio,
        huntMet: ratio <= TARGET_HUNT_RATIO,
        pingMax: r.ping.window.max,
        pingMet: r.ping.window.max <= TARGET_PING_MAX_MS && r.ping.lost === 0,
      };
      console.log(
        `${r.name}: defend step p99 ${f2(t.defendStepP99)} ms (<= ${TARGET_DEFEND_P99_MS}: ${t.defendMet ? "met" : "MISSED"}); hunt p99 ${f2(t.huntP99)} ms = ${f2(ratio)}x the baseline's ${f2(base)} ms (<= ${TARGET_HUNT_RATIO}x: ${t.huntMet ? "met" : "MISSED"}); ping max ${f1(t.pingMax)} ms in the window (<= ${TARGET_PING_MAX_MS}: ${t.pingMet ? "met" : "MISSED"})`,
      );
      return t;
    });
  const loadAfter = loadavg();
  console.log(`load average ${loadAfter.map((x) => x.toFixed(2)).join(" ")} after the run`);
  const bp = results[0].ping.window;
  console.log(`baseline: ping max ${f1(bp.max)} ms in the window`);
  const out = join(root, "bench", "defend-results.json");
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        loadAverage: { before: loadBefore, after: loadAfter },
        config: { warmupS, measureS, storage, huntRooms, defendClients, pingEveryMs: PING_EVERY_MS, investigation: investigation() },
        targets: { defendStepP99Ms: TARGET_DEFEND_P99_MS, huntRatioToBaseline: TARGET_HUNT_RATIO, pingMaxMs: TARGET_PING_MAX_MS },
        verdicts: targets,
        floorUpdateBytes: updateBytes,
        stages: results,
      },
      null,
      2,
    ) + "\n",
  );
  warnInvestigation();
  console.log(`\nwrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
