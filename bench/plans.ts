// What a plan costs the server's thread (issue 17): proposing one plays it
// from the level's start through the session (the preview), and recording one
// also follows the trace once with the run-to-decision rule. For each hunt and
// versus level: its par schedule as a typed plan, and the same moves recorded
// (as N+ runs where a run gives the same lines), each timed warm, median of 7.
// For scale, the room plays the same lines when the players press the keys.
// Run: npm run bench:plans   (writes bench/plans.json)

import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { makePlan, planCommand, recordPlan } from "../src/game/plan.js";
import { applyCommand, newSession } from "../src/game/session.js";
import { loadCampaign } from "../src/level/load.js";
import { verifySetting } from "../src/level/verify.js";

const ME = { id: "bench", name: "bench" };
const REPS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timed(fn: () => unknown): number {
  fn(); // warm
  const t: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const rows = [];
for (const level of loadCampaign()) {
  if (level.mode !== "hunt" && level.mode !== "versus") continue;
  const v = verifySetting(level, {});
  if (!v.schedule) continue;
  const versus = level.mode === "versus";
  const typed = makePlan(level, v.knobs, versus, v.schedule, ME);
  let s = newSession(level, { versus });
  while (!s.result) s = applyCommand(level, s, planCommand(typed, s), 0, ME.id).s;
  const recorded = recordPlan(level, s, ME);
  rows.push({
    level: level.id,
    lines: typed.trace.length,
    typedItems: typed.items.length,
    recordedItems: recorded.items.length,
    recorded: recorded.schedule,
    previewMs: +timed(() => makePlan(level, v.knobs, versus, v.schedule!, ME)).toFixed(2),
    recordMs: +timed(() => recordPlan(level, s, ME)).toFixed(2),
  });
  const r = rows[rows.length - 1];
  console.log(`${r.level.padEnd(22)} ${String(r.lines).padStart(3)} lines  preview ${r.previewMs.toFixed(2).padStart(7)} ms  record ${r.recordMs.toFixed(2).padStart(7)} ms  ${r.typedItems} -> ${r.recordedItems} items`);
}
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const max = { previewMs: Math.max(...rows.map((r) => r.previewMs)), recordMs: Math.max(...rows.map((r) => r.recordMs)) };
const perLine = { previewMs: median(rows.map((r) => r.previewMs / r.lines)), recordMs: median(rows.map((r) => r.recordMs / r.lines)) };
console.log(`max: preview ${max.previewMs} ms, record ${max.recordMs} ms; median per line: preview ${perLine.previewMs.toFixed(3)} ms, record ${perLine.recordMs.toFixed(3)} ms`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
writeFileSync(join(import.meta.dirname, "..", "..", "bench", "plans.json"), JSON.stringify({ date: new Date().toISOString(), machine, rows, max, perLine }, null, 2) + "\n");
