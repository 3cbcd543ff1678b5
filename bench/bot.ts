// One adversary decision from the solved game (issue 13): for every setting of
// every defend level of the campaign, solve once (src/sim/solve.ts, the state
// budget the server's solver pool uses), then time what a room's bot turn does
// on the server's thread: follow the room's node to the current machine
// (`track`, src/game/solved.ts) and plan its move (`botPlan` with the solved
// game, src/game/bots.ts). Positions come from seeded games: players hold a
// random non-empty set of CPUs, the bot the rest (and the DMA device); each
// move is the bot's plan or a random enabled move (a player's, line by line,
// stopping mid-way through local lines as players do).
//
//   npm run bench:bot [-- --games 100 --steps 80 --seed 1]
//
// Writes bench/bot-results.json. Times are per decision: the `track` of the
// move that led to the position plus the `botPlan` at it, in microseconds,
// after one untimed warm-up pass over every setting (JIT). Single process,
// single thread; the machine's other work shares its cores.

import { writeFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { botPlan } from "../src/game/bots.js";
import { applyCommand, compiledFor, current, newSession, type Actor, type Command, type Session } from "../src/game/session.js";
import { proofOf, track } from "../src/game/solved.js";
import { knobSettings, type KnobSetting } from "../src/level/compile.js";
import { loadCampaign, type Level } from "../src/level/load.js";
import { enabledActions } from "../src/sim/engine.js";
import { solve, type Solved } from "../src/sim/solve.js";
import type { Action } from "../src/sim/types.js";
import { summarize, type Summary } from "./load-common.js";
import { cpus, totalmem } from "node:os";

function machine() {
  const c = cpus();
  return { cores: c.length, cpu: c[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET_P99_US = 1000;
/** The solver pool's default state budget (server/solver/pool.ts). */
const MAX_STATES = 1_000_000;

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const toCommand = (a: Action): Command => ("dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice });
const actionOf = (c: Command): Action | null => (c.kind !== "step" ? null : c.actor === "dma" ? { dma: true } : c.choice === undefined ? { cpu: c.actor } : { cpu: c.actor, choice: c.choice });
const now = () => Number(process.hrtime.bigint()) / 1000; // µs

interface Setting {
  level: Level;
  knobs: KnobSetting;
  solved: Solved;
  solveMs: number;
}

/** Decisions over SLOW_US, with when they ran (performance.now() ms), to match against GC pauses. */
const SLOW_US = 200;
const slow: { at: number; us: number }[] = [];
const gcs: { start: number; end: number }[] = [];

interface Tally {
  us: number[];
  planUs: number[];
  trackUs: number[];
  lost: number;
  games: number;
  botMoves: number;
  waits: number;
  over: number;
  timed: boolean;
}

/** Seeded games on one setting; every decision's time goes into `t` when `timed`. */
function play(st: Setting, games: number, steps: number, seed: number, t: Tally): void {
  const { level, knobs, solved } = st;
  const cfg = compiledFor(level, knobs).cfg;
  const facts = { proof: proofOf(solved) };
  const next = rng(seed);
  const ncpu = level.cpus.length;
  for (let g = 0; g < games; g++) {
    t.games++;
    // Players hold a random non-empty set of CPUs; with one CPU the bot keeps only the device.
    let held = 0;
    while (held === 0 || (ncpu > 1 && held === (1 << ncpu) - 1)) held = Math.floor(next() * (1 << ncpu));
    const owns = (a: Actor) => a === "dma" || (held & (1 << a)) === 0;
    let s: Session = newSession(level);
    for (const [knob, value] of Object.entries(knobs)) s = applyCommand(level, s, { kind: "knob", knob, value }, 0, "p").s;
    s = applyCommand(level, s, { kind: "start" }, 0, "p").s;
    let node = 0;
    let trackUs = 0;
    for (let n = 0; n < steps && s.phase === "play"; n++) {
      const t0 = now();
      const plan = botPlan(level, s, "adversary", owns, n, { s: solved, node });
      const planUs = now() - t0;
      t.us.push(planUs + trackUs);
      if (t.timed && planUs + trackUs > SLOW_US) slow.push({ at: performance.now(), us: planUs + trackUs });
      t.planUs.push(planUs);
      t.trackUs.push(trackUs);
      // The next move: the bot's (when it has one, most of the time), else a random enabled one.
      const m = current(s);
      let a: Action | null = plan.length > 0 && next() < 0.6 ? actionOf(plan[0]) : null;
      if (a) t.botMoves++;
      else {
        if (plan.length === 0) t.waits++;
        const moves = enabledActions(cfg, m);
        if (moves.length === 0) break;
        a = moves[Math.floor(next() * moves.length)];
      }
      const t1 = now();
      node = track(solved, cfg, m, node, a);
      trackUs = now() - t1;
      if (node < 0) t.lost++;
      try {
        s = applyCommand(level, s, toCommand(a), n + 1, owns("dma" in a ? "dma" : a.cpu) ? "bot" : "p", facts).s;
      } catch {
        break;
      }
    }
    if (s.phase === "over") t.over++;
  }
}

const fresh = (timed = true): Tally => ({ us: [], planUs: [], trackUs: [], lost: 0, games: 0, botMoves: 0, waits: 0, over: 0, timed });
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");

async function main() {
  const games = Number(flag("games", "100"));
  const steps = Number(flag("steps", "80"));
  const seed = Number(flag("seed", "1"));
  const m = machine();
  console.log(`Bot decision from the solved game: ${m.cores} cores (${m.cpu}), Node ${m.node}`);
  const campaign = loadCampaign().filter((l) => l.mode === "defend");
  const settings: Setting[] = [];
  for (const level of campaign) {
    for (const knobs of knobSettings(level)) {
      const c = compiledFor(level, knobs);
      const t0 = performance.now();
      const solved = solve(c.cfg, c.machine, { oracles: c.oracles, maxStates: MAX_STATES });
      settings.push({ level, knobs, solved, solveMs: performance.now() - t0 });
    }
  }
  console.log(`${campaign.length} defend levels, ${settings.length} settings solved in ${f1(settings.reduce((a, s) => a + s.solveMs, 0))} ms`);
  // Warm-up: the same work, untimed, so the JIT has compiled it.
  for (const [i, st] of settings.entries()) play(st, Math.max(5, Math.floor(games / 5)), steps, 1000 + seed + i, fresh(false));
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
  }).observe({ entryTypes: ["gc"] });
  const rows: { level: string; knobs: KnobSetting; verdict: string; states: number; solveMs: number; decisions: number; games: number; over: number; botMoves: number; waits: number; lost: number; us: Summary; planUs: Summary; trackUs: Summary }[] = [];
  const all: number[] = [];
  console.log(`${games} seeded games a setting, up to ${steps} moves each; one decision = track (the move that led here) + botPlan; µs`);
  console.log(["level", "knobs", "verdict", "states", "decisions", "p50 µs", "p99 µs", "max µs", "plan p99", "track p99", "lost"].map((h, i) => (i < 3 ? h.padEnd([22, 34, 10][i]) : h.padStart(9))).join(" "));
  for (const [i, st] of settings.entries()) {
    const t = fresh();
    play(st, games, steps, seed + i, t);
    const us = summarize(t.us);
    all.push(...t.us);
    const row = { level: st.level.id, knobs: st.knobs, verdict: st.solved.verdict, states: st.solved.states, solveMs: st.solveMs, decisions: t.us.length, games: t.games, over: t.over, botMoves: t.botMoves, waits: t.waits, lost: t.lost, us, planUs: summarize(t.planUs), trackUs: summarize(t.trackUs) };
    rows.push(row);
    console.log(
      [st.level.id.padEnd(22), Object.values(st.knobs).join(",").padEnd(34), st.solved.verdict.padEnd(10), ...[st.solved.states, t.us.length, f1(us.p50), f1(us.p99), f1(us.max), f1(row.planUs.p99), f1(row.trackUs.p99), t.lost].map((x) => String(x).padStart(9))].join(" "),
    );
  }
  const overall = summarize(all);
  console.log(`overall: ${overall.count} decisions, p50 ${f1(overall.p50)} µs, p99 ${f1(overall.p99)} µs, max ${f1(overall.max)} µs, mean ${f1(overall.mean)} µs`);
  // GC entries are delivered after the synchronous loop: let them in, then see which slow decisions a pause overlapped.
  await new Promise((r) => setTimeout(r, 200));
  const inGc = slow.filter((x) => gcs.some((g) => g.start <= x.at && g.end >= x.at - x.us / 1000)).length;
  console.log(`decisions over ${SLOW_US} µs: ${slow.length} (${f1((slow.length / overall.count) * 1e6)} per million), ${inGc} of them overlapping a GC pause (${gcs.length} GC pauses in the timed pass)`);
  const worstP99 = Math.max(...rows.map((r) => r.us.p99));
  console.log(`target p99 <= ${TARGET_P99_US} µs: ${overall.p99 <= TARGET_P99_US ? "met" : "MISSED"} overall (${f1(overall.p99)} µs); worst setting's p99 ${f1(worstP99)} µs: ${worstP99 <= TARGET_P99_US ? "met" : "MISSED"}`);
  const out = join(root, "bench", "bot-results.json");
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, config: { games, steps, seed, maxStates: MAX_STATES, unit: "µs", warmup: "one untimed pass, games/5 a setting" }, target: { p99Us: TARGET_P99_US }, overall, slowDecisions: { overUs: SLOW_US, count: slow.length, overlappingGc: inGc, gcPauses: gcs.length }, worstSettingP99Us: worstP99, settings: rows }, null, 2) + "\n");
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
