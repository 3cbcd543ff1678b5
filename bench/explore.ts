// Explorer throughput: states per second on one core, per level and knob
// setting, and the wall time of verifying the whole campaign.
// Run: npm run bench   (writes bench/results.json)

import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { compileLevel, knobSettings } from "../src/level/compile.js";
import { loadCampaign } from "../src/level/load.js";
import { explore } from "../src/sim/explore.js";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);

interface Row {
  level: string;
  knobs: string;
  verdict: string;
  states: number;
  transitions: number;
  ms: number;
  statesPerSec: number;
}

const campaign = loadCampaign();
const rows: Row[] = [];
const t0 = performance.now();
for (const level of campaign) {
  for (const knobs of knobSettings(level)) {
    const c = compileLevel(level, knobs);
    explore(c.cfg, c.machine, { oracles: c.oracles }); // warm-up
    let best = Infinity;
    let r = explore(c.cfg, c.machine, { oracles: c.oracles });
    for (let i = 0; i < REPEAT; i++) {
      const s = performance.now();
      r = explore(c.cfg, c.machine, { oracles: c.oracles });
      best = Math.min(best, performance.now() - s);
    }
    rows.push({
      level: level.id,
      knobs: Object.entries(knobs).map(([k, v]) => `${k}=${v}`).join(" ") || "-",
      verdict: r.verdict,
      states: r.states,
      transitions: r.transitions,
      ms: Number(best.toFixed(2)),
      statesPerSec: Math.round(r.states / (best / 1000)),
    });
  }
}
const benchMs = performance.now() - t0;

// The campaign verified once, cold, as `faultline verify` does it.
const v0 = performance.now();
for (const level of campaign) for (const knobs of knobSettings(level)) {
  const c = compileLevel(level, knobs);
  explore(c.cfg, c.machine, { oracles: c.oracles });
}
const verifyMs = performance.now() - v0;

const totalStates = rows.reduce((a, r) => a + r.states, 0);
const totalMs = rows.reduce((a, r) => a + r.ms, 0);
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };

const w = Math.max(...rows.map((r) => (r.level + " " + r.knobs).length));
console.log(`${"level knobs".padEnd(w)}  verdict     states  transitions      ms   states/s`);
for (const r of rows) {
  console.log(`${(r.level + " " + r.knobs).padEnd(w)}  ${r.verdict.padEnd(9)} ${String(r.states).padStart(8)} ${String(r.transitions).padStart(12)} ${r.ms.toFixed(1).padStart(7)} ${r.statesPerSec.toLocaleString("en-US").padStart(10)}`);
}
console.log(`\nall settings: ${totalStates} states in ${totalMs.toFixed(1)} ms = ${Math.round(totalStates / (totalMs / 1000)).toLocaleString("en-US")} states/s (best of ${REPEAT})`);
console.log(`campaign verify (cold, one pass): ${verifyMs.toFixed(0)} ms`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);

writeFileSync(
  join(import.meta.dirname, "..", "..", "bench", "results.json"),
  JSON.stringify({ date: new Date().toISOString(), machine, explore: { rows, totalStates, totalMs, statesPerSec: Math.round(totalStates / (totalMs / 1000)), verifyMs: Math.round(verifyMs), benchMs: Math.round(benchMs) } }, null, 2) + "\n",
);
