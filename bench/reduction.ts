// The explorer with and without its local-step reduction: states and time per
// campaign setting (verdict first, as `verify` needs it), the whole solved game
// per setting, and bigger variants (one more storing CPU), including the one
// beside r9-flush-first that issue 12 names.
// Run: npm run bench:reduction   (writes bench/reduction.json)

import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { compileLevel, knobSettings } from "../src/level/compile.js";
import { loadCampaign, parseLevel, type Level } from "../src/level/load.js";
import { explore } from "../src/sim/explore.js";
import { solve } from "../src/sim/solve.js";

interface Row {
  level: string;
  knobs: string;
  verdict: string;
  full: number;
  fused: number;
  ratio: number;
  fullMs: number;
  fusedMs: number;
  solved: number;
  solveMs: number;
}

const time = <T>(f: () => T): { r: T; ms: number } => {
  const t = performance.now();
  const r = f();
  return { r, ms: performance.now() - t };
};

function measure(level: Level, label = level.id): Row[] {
  return knobSettings(level).map((knobs) => {
    const c = compileLevel(level, knobs);
    const full = time(() => explore(c.cfg, c.machine, { oracles: c.oracles, reduce: false }));
    const fused = time(() => explore(c.cfg, c.machine, { oracles: c.oracles }));
    if (full.r.verdict !== fused.r.verdict) throw new Error(`${label} ${JSON.stringify(knobs)}: verdicts differ`);
    const solved = time(() => solve(c.cfg, c.machine, { oracles: c.oracles }));
    return {
      level: label,
      knobs: Object.entries(knobs).map(([k, v]) => `${k}=${v}`).join(" ") || "-",
      verdict: fused.r.verdict,
      full: full.r.states,
      fused: fused.r.states,
      ratio: Number((full.r.states / fused.r.states).toFixed(2)),
      fullMs: Math.round(full.ms),
      fusedMs: Math.round(fused.ms),
      solved: solved.r.states,
      solveMs: Math.round(solved.ms),
    };
  });
}

/** The level with one more CPU that stores to page 0 of its first process (claims about par dropped). */
function plusCpu(l: Level): Level {
  const text = readFileSync(l.file, "utf8");
  return parseLevel(
    `${l.id}+cpu.yaml`,
    text
      .replace(/^cpus:\n/m, `cpus:\n  - { name: X9, process: ${l.machine.processes[0].name}, runs: [{ store: { page: 0, value: extra } }] }\n`)
      .replace(/^par: \d+\n/m, "")
      .replace(/^preemptions: .*\n/m, ""),
  );
}

const campaign = loadCampaign();
for (const l of campaign.slice(0, 3)) measure(l); // warm-up
const rows = campaign.flatMap((l) => measure(l));
const bigger = ["basics-spinlock", "r4-spf-deadlock", "r8-vma-start-write", "r4-spf-trylock", "r6-write-protect-seq", "r9-flush-first"].flatMap((id) =>
  measure(plusCpu(campaign.find((l) => l.id === id)!), `${id}+cpu`),
);

const sum = (rs: Row[], k: "full" | "fused" | "solved" | "fullMs" | "fusedMs" | "solveMs") => rs.reduce((a, r) => a + r[k], 0);
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const w = Math.max(...[...rows, ...bigger].map((r) => (r.level + " " + r.knobs).length));
console.log(`${"setting".padEnd(w)}  verdict        full     fused  ratio  full ms  fused ms   solved  solve ms`);
for (const r of [...rows, ...bigger]) {
  console.log(
    `${(r.level + " " + r.knobs).padEnd(w)}  ${r.verdict.padEnd(9)} ${String(r.full).padStart(9)} ${String(r.fused).padStart(9)} ${r.ratio.toFixed(2).padStart(6)} ${String(r.fullMs).padStart(8)} ${String(r.fusedMs).padStart(9)} ${String(r.solved).padStart(8)} ${String(r.solveMs).padStart(9)}`,
  );
}
const totals = {
  campaign: { full: sum(rows, "full"), fused: sum(rows, "fused"), ratio: Number((sum(rows, "full") / sum(rows, "fused")).toFixed(2)), fullMs: sum(rows, "fullMs"), fusedMs: sum(rows, "fusedMs"), solved: sum(rows, "solved"), solveMs: sum(rows, "solveMs") },
  bigger: { full: sum(bigger, "full"), fused: sum(bigger, "fused"), ratio: Number((sum(bigger, "full") / sum(bigger, "fused")).toFixed(2)) },
};
console.log(`\ncampaign (49 settings): ${totals.campaign.full} -> ${totals.campaign.fused} states (${totals.campaign.ratio}x), ${totals.campaign.fullMs} -> ${totals.campaign.fusedMs} ms; whole solved games ${totals.campaign.solved} states in ${totals.campaign.solveMs} ms`);
console.log(`one more CPU (${bigger.length} settings): ${totals.bigger.full} -> ${totals.bigger.fused} states (${totals.bigger.ratio}x)`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
writeFileSync(join(import.meta.dirname, "..", "..", "bench", "reduction.json"), JSON.stringify({ date: new Date().toISOString(), machine, rows, bigger, totals }, null, 2) + "\n");
