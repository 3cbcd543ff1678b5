// What a plan costs the server's thread (issue 17): proposing one plays it
// from the level's start through the session (the preview); recording one is
// the attempt's share schedule, previewed the same way. For each hunt and
// versus level, two plans that win at par: the explorer's schedule in single
// steps, and the fewest key presses at par (bench/decisions.json, mostly runs
// to the next decision, which cost the decision rule per line), typed, and the
// second again recorded from the attempt it plays. Each timed warm, median of 7.
// The room spends the same when players press those keys.
// Run: npm run bench:plans   (writes bench/plans.json; reads bench/decisions.json)

import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { makePlan, planCommand, recordPlan } from "../src/game/plan.js";
import { applyCommand, compiledFor, newSession, type Session } from "../src/game/session.js";
import type { Level } from "../src/level/load.js";
import { cpuStatus } from "../src/sim/engine.js";
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

/** The schedule the game's keys make (bench/decisions.json's notation: a digit selects a CPU, or picks from a menu after Enter or Space). */
function keysSchedule(level: Level, keys: string): string {
  let s = newSession(level, { versus: level.mode === "versus" });
  let sel = 0;
  const out: string[] = [];
  const toks = keys.split(" ");
  for (let i = 0; i < toks.length; i++) {
    const k = toks[i];
    if (/^\d$/.test(k)) {
      sel = Number(k);
      continue;
    }
    if (k === "d") {
      out.push("d");
      s = applyCommand(level, s, { kind: "step", actor: "dma" }, 0, ME.id).s;
      continue;
    }
    const st = cpuStatus(compiledFor(level, s.knobs).cfg, s.machine, sel);
    const choice = st.state === "menu" ? st.choices[Number(toks[++i]) - 1] : undefined;
    const run = k === "Enter";
    out.push(`${sel}${choice ? `:${choice}` : ""}${run ? "+" : ""}`);
    s = applyCommand(level, s, { kind: run ? "run" : "step", actor: sel, ...(choice ? { choice } : {}) }, 0, ME.id).s;
  }
  return out.join(" ");
}

/** The attempt a plan makes, played item by item as the room plays it. */
function played(level: Level, schedule: string): Session {
  const versus = level.mode === "versus";
  const p = makePlan(level, {}, versus, schedule, ME);
  let s = newSession(level, { versus });
  while (!s.result) s = applyCommand(level, s, planCommand(p, s), 0, ME.id).s;
  return s;
}

const presses = new Map<string, string>((JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "bench", "decisions.json"), "utf8")) as { rows: { level: string; keys: string }[] }).rows.map((r) => [r.level, r.keys]));
const loadBefore = loadavg()[0];
const rows = [];
for (const level of loadCampaign()) {
  if (level.mode !== "hunt" && level.mode !== "versus") continue;
  const versus = level.mode === "versus";
  const steps = verifySetting(level, {}).schedule!;
  const runs = keysSchedule(level, presses.get(level.id)!);
  const s = played(level, runs);
  const row = {
    level: level.id,
    lines: s.trace.length,
    steps,
    runs,
    recorded: recordPlan(level, s, ME).schedule,
    stepsPreviewMs: +timed(() => makePlan(level, {}, versus, steps, ME)).toFixed(2),
    runsPreviewMs: +timed(() => makePlan(level, {}, versus, runs, ME)).toFixed(2),
    recordMs: +timed(() => recordPlan(level, s, ME)).toFixed(2),
  };
  rows.push(row);
  console.log(`${row.level.padEnd(22)} ${String(row.lines).padStart(3)} lines  steps ${row.stepsPreviewMs.toFixed(2).padStart(6)} ms  runs ${row.runsPreviewMs.toFixed(2).padStart(6)} ms  record ${row.recordMs.toFixed(2).padStart(6)} ms  ${row.runs}`);
}
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const max = { stepsPreviewMs: Math.max(...rows.map((r) => r.stepsPreviewMs)), runsPreviewMs: Math.max(...rows.map((r) => r.runsPreviewMs)), recordMs: Math.max(...rows.map((r) => r.recordMs)) };
const perLine = {
  stepsPreviewMs: +median(rows.map((r) => r.stepsPreviewMs / r.lines)).toFixed(4),
  runsPreviewMs: +median(rows.map((r) => r.runsPreviewMs / r.lines)).toFixed(4),
  recordMs: +median(rows.map((r) => r.recordMs / r.lines)).toFixed(4),
};
console.log(`max: steps ${max.stepsPreviewMs} ms, runs ${max.runsPreviewMs} ms, record ${max.recordMs} ms; median per line: steps ${perLine.stepsPreviewMs} ms, runs ${perLine.runsPreviewMs} ms, record ${perLine.recordMs} ms`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
// Other work on the cores moves these figures: the load average (1 min) before and after says how much there was.
const load = [+loadBefore.toFixed(1), +loadavg()[0].toFixed(1)];
console.log(`load average: ${load.join(" -> ")}`);
writeFileSync(join(import.meta.dirname, "..", "..", "bench", "plans.json"), JSON.stringify({ date: new Date().toISOString(), machine, load, rows, max, perLine }, null, 2) + "\n");
