// How big the sandbox's scenarios get: the explorer's states, time and table memory for the
// scenarios the limits allow (src/level/sandbox.ts SANDBOX_LIMITS). Hand-picked heavy ones (every
// CPU busy, forks, pins, the DMA device) and a seeded random sample of scenarios within the
// limits. Each is solved as the server's solver thread does (labelled goals, then the
// preemption table of every oracle that can fire).
// Run: npm run bench:sandbox   (writes bench/sandbox.json; SANDBOX_SAMPLE=N for the sample size)

import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { compileLevel } from "../src/level/compile.js";
import { LevelError } from "../src/level/load.js";
import { SANDBOX_LIMITS, sandboxCatalogue, sandboxLevel, SandboxError, type SandboxScenario } from "../src/level/sandbox.js";
import { reachTables } from "../src/game/solved.js";
import { fewestPreemptions } from "../src/sim/preempt.js";
import { solve } from "../src/sim/solve.js";

const op = (o: string, args?: Record<string, number | boolean | string>) => ({ op: o, ...(args ? { args } : {}) });

const HEAVY: { name: string; sc: SandboxScenario }[] = [
  { name: "example (R7 vmsplice, 4.19)", sc: sandboxCatalogue().example },
  {
    name: "R5 six steps on 5.9 with the device",
    sc: { generation: "5.9", machine: "x86", memory: "one-page", child: "fork", device: true, cpus: [
      { process: "P", runs: [op("pin_user_pages", { page: 0, write: false })] },
      { process: "P", runs: [op("fork"), op("wait_child"), op("store", { page: 0, value: "x" })] },
      { process: "C", runs: [op("exit")] },
    ] },
  },
  {
    name: "3 CPUs, 6 operations: fork, pins and stores on two pages (6.5)",
    sc: { generation: "6.5", machine: "x86", memory: "two-pages", child: "fork", cpus: [
      { process: "P", runs: [op("fork"), op("store", { page: 0, value: "x" })] },
      { process: "P", runs: [op("pin_user_pages_fast", { page: 0, write: true }), op("munmap", { page: 1, pages: 1 })] },
      { process: "C", runs: [op("store", { page: 0, value: "y" }), op("exit")] },
    ] },
  },
  {
    name: "3 CPUs, 6 operations: two forks on 5.11",
    sc: { generation: "5.11", machine: "x86", memory: "two-pages", child: "forked", cpus: [
      { process: "P", runs: [op("fork"), op("store", { page: 0, value: "x" })] },
      { process: "P", runs: [op("fork"), op("store", { page: 1, value: "y" })] },
      { process: "C", runs: [op("pin_user_pages", { page: 0, write: true }), op("madvise", { page: 0, pages: 2, advice: "dontneed" })] },
    ] },
  },
  {
    name: "2 CPUs, 6 operations (3 each), arm64, 6.x",
    sc: { generation: "6.x", machine: "arm64", memory: "two-pages", child: "none", cpus: [
      { process: "P", runs: [op("store", { page: 0, value: "x" }), op("munmap", { page: 0, pages: 1 }), op("store", { page: 0, value: "y" })] },
      { process: "P", runs: [op("pin_user_pages_fast", { page: 0, write: true }), op("fork"), op("try_to_unmap", { page: 1 })] },
    ] },
  },
  {
    name: "3 CPUs, 6 operations: counters under the lock and without",
    sc: { generation: "6.x", machine: "x86", memory: "one-page", child: "none", cpus: [
      { process: "P", runs: [op("counter_inc", { lock: true }), op("counter_inc", { lock: false })] },
      { process: "P", runs: [op("counter_inc", { lock: false }), op("counter_inc", { lock: true })] },
      { process: "P", runs: [op("counter_inc", { lock: true }), op("counter_inc", { lock: false })] },
    ] },
  },
];

/** A small deterministic PRNG (mulberry32): the sample is the same on every run. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomScenario(r: () => number): SandboxScenario {
  const cat = sandboxCatalogue();
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const n = 2 + Math.floor(r() * (SANDBOX_LIMITS.cpus - 1));
  let budget = SANDBOX_LIMITS.ops;
  const child = pick(cat.children).id;
  const out: SandboxScenario = { generation: pick(cat.generations).id, machine: pick(cat.machines).id, memory: pick(cat.memories).id, child, cpus: [] };
  for (let i = 0; i < n; i++) {
    const k = Math.max(1, Math.min(budget - (n - i - 1), 1 + Math.floor(r() * SANDBOX_LIMITS.opsPerCpu)));
    budget -= k;
    const runs = Array.from({ length: k }, () => {
      const o = pick(cat.operations);
      return { op: o.op, args: Object.fromEntries(o.args.map((a) => [a.name, pick(a.values)])) };
    });
    out.cpus.push({ process: child !== "none" && r() < 0.4 ? "C" : "P", runs });
  }
  if (out.cpus.some((c) => c.runs.some((x) => x.op.startsWith("pin_user_pages"))) && r() < 0.5) out.device = true;
  return out;
}

interface Row {
  name: string;
  cpus: number;
  ops: number;
  states: number;
  transitions: number;
  verdict: string;
  oracles: number;
  tableBytes: number;
  solveMs: number;
  tablesMs: number;
}

function measure(name: string, sc: SandboxScenario): Row | null {
  let level;
  try {
    level = sandboxLevel(sc);
  } catch (e) {
    if (e instanceof LevelError || e instanceof SandboxError) return null; // refused: never solved
    throw e;
  }
  const c = compileLevel(level);
  const t0 = performance.now();
  let s;
  try {
    s = solve(c.cfg, c.machine, { oracles: c.oracles, maxStates: SANDBOX_LIMITS.states, label: true });
  } catch (e) {
    // A simulator failure the scenario reaches: the server's solver reports it as "cannot be solved".
    failures.push({ name, scenario: sc, error: e instanceof Error ? e.message : String(e) });
    return null;
  }
  const t1 = performance.now();
  const tables = s.verdict === "incomplete" ? [] : reachTables(s, c.cfg.cpus.length, c.oracles);
  if (!s.cycle) fewestPreemptions(s, c.cfg.cpus.length);
  const t2 = performance.now();
  return {
    name,
    cpus: sc.cpus.length,
    ops: sc.cpus.reduce((n, x) => n + x.runs.length, 0),
    states: s.states,
    transitions: s.transitions,
    verdict: s.verdict,
    oracles: tables.length,
    tableBytes: tables.reduce((n, t) => n + t.table.byteLength, 0),
    solveMs: Math.round(t1 - t0),
    tablesMs: Math.round(t2 - t1),
  };
}

const failures: { name: string; scenario: SandboxScenario; error: string }[] = [];
// Times depend on what else runs: the load average before and after goes into the results.
const loadBefore = loadavg()[0];
const SAMPLE = Number(process.env.SANDBOX_SAMPLE ?? 200);
const rows: Row[] = [];
for (const h of HEAVY) {
  const row = measure(h.name, h.sc);
  if (row) rows.push(row);
  console.log(JSON.stringify(row));
}
const r = rng(18);
const sample: Row[] = [];
let refused = 0;
for (let i = 0; i < SAMPLE; i++) {
  const before = failures.length;
  const row = measure(`random #${i}`, randomScenario(r));
  if (row) sample.push(row);
  else if (failures.length === before) refused++;
}
const by = (k: "states" | "solveMs" | "tableBytes") => [...sample].sort((a, b) => a[k] - b[k]);
const pct = (k: "states" | "solveMs" | "tableBytes", p: number) => by(k)[Math.min(sample.length - 1, Math.floor(p * sample.length))]?.[k] ?? 0;
const summary = {
  scenarios: SAMPLE,
  refused,
  simulatorFailures: failures.length,
  solved: sample.length,
  overBudget: sample.filter((x) => x.states > SANDBOX_LIMITS.states).length,
  states: { median: pct("states", 0.5), p95: pct("states", 0.95), max: pct("states", 1) },
  solveMs: { median: pct("solveMs", 0.5), p95: pct("solveMs", 0.95), max: pct("solveMs", 1) },
  tableBytes: { median: pct("tableBytes", 0.5), p95: pct("tableBytes", 0.95), max: pct("tableBytes", 1) },
  largest: by("states").slice(-3).reverse(),
};
console.log(JSON.stringify(summary, null, 2));
const out = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model.trim() ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage: { before: loadBefore, after: loadavg()[0] } },
  limits: SANDBOX_LIMITS,
  heavy: rows,
  random: summary,
  failures,
};
writeFileSync(join(import.meta.dirname, "..", "..", "bench", "sandbox.json"), JSON.stringify(out, null, 2) + "\n");
