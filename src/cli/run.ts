import { laneLabel, TIMELINE_LEGEND, timelineLines, timelinePages } from "../client/model/timeline.js";
import { compileLevel, parseKnobArgs, type KnobSetting } from "../level/compile.js";
import { findLevel, loadCampaign, type Level } from "../level/load.js";
import type { Config } from "../sim/config.js";
import { allDone, cpuStatus } from "../sim/engine.js";
import { runSchedule, type RunResult } from "../sim/runner.js";
import { parseScheduleItems } from "../sim/schedule.js";
import { parse, UsageError } from "./usage.js";

export function cmdRun(args: string[]): number {
  const { values, positionals } = parse(
    args,
    { schedule: { type: "string" }, knob: { type: "string", multiple: true }, json: { type: "boolean" } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError("run takes one LEVEL (see faultline levels), e.g. faultline run basics-lost-update --schedule '0 1 0 1'");
  if (values.schedule === undefined) throw new UsageError("run needs --schedule, e.g. --schedule '0 1 0 1'");
  const level = findLevel(loadCampaign(), positionals[0]);
  if (!level) throw new UsageError(`unknown level "${positionals[0]}" (see faultline levels)`);
  if (level.knobs.length === 0 && values.knob?.length) throw new UsageError(`level ${level.id} has no knobs`);
  const knobs = parseKnobArgs(level, values.knob ?? []);
  const actions = parseScheduleItems(values.schedule);
  const c = compileLevel(level, knobs);
  const r = runSchedule(c.cfg, c.machine, actions, c.oracles);
  if (values.json) {
    process.stdout.write(JSON.stringify(runJson(level, knobs, c.cfg, r), null, 2) + "\n");
  } else {
    // The timeline pages fit the terminal; piped, they are as wide as a standard one.
    printRun(level, knobs, c.cfg, r, undefined, process.stdout.isTTY ? process.stdout.columns : 80);
  }
  return 0;
}

export function runJson(level: Level, knobs: KnobSetting, cfg: Config, r: RunResult) {
  return {
    level: level.id,
    knobs,
    steps: r.steps.map((s) => ({
      step: s.step,
      actor: s.ev.actor,
      cpu: s.ev.cpu,
      fn: s.ev.fn,
      line: s.ev.line,
      blocked: s.ev.blocked,
      ...(s.ev.wait ? { wait: s.ev.wait } : {}),
      ...(s.ev.choice ? { choice: s.ev.choice } : {}),
      ...(s.ev.loaded !== undefined ? { loaded: s.ev.loaded } : {}),
      ...(s.ev.notes ? { notes: s.ev.notes } : {}),
      changes: s.changes,
    })),
    oracle: r.violation ? { id: r.violation.oracle, message: r.violation.message, step: r.violation.step } : null,
    finished: allDone(cfg, r.m),
  };
}

/** The steps, the debrief's timeline of them (src/client/model/timeline.ts, page by page in `width` columns), and the outcome. */
export function printRun(level: Level, knobs: KnobSetting, cfg: Config, r: RunResult, out: (s: string) => void = (s) => process.stdout.write(s), width = 80): void {
  const kt = Object.entries(knobs).map(([a, b]) => `${a}=${b}`).join(" ");
  const kernel = level.label === "teaching" ? "" : `, kernel ${cfg.kernel.generation}${level.label === "mainline" ? "" : ` (${level.label})`}`;
  out(`${level.title} (${level.id}: ${level.mode}, ${level.race}${kernel}${kt ? `, ${kt}` : ""})\n\n`);
  let prev: RunResult["steps"][number] | null = null;
  for (const s of r.steps) {
    const who = s.ev.actor.padEnd(10);
    const fn = prev && prev.ev.fn === s.ev.fn && prev.ev.cpu === s.ev.cpu ? "".padEnd(18) : s.ev.fn.padEnd(18);
    out(`${String(s.step).padStart(4)}  ${who} ${fn} ${s.ev.choice ? `[chooses ${s.ev.choice}] ` : ""}${s.ev.line}\n`);
    if (s.ev.blocked) out(`${"".padEnd(35)}  ! blocked: ${s.ev.wait ?? "waits"}\n`);
    if (s.ev.loaded !== undefined) out(`${"".padEnd(35)}  = loads "${s.ev.loaded}"\n`);
    for (const n of s.ev.notes ?? []) out(`${"".padEnd(35)}  * ${n}\n`);
    for (const ch of s.changes) out(`${"".padEnd(35)}  - ${ch}\n`);
    prev = s;
  }
  out("\n");
  const breakStep = r.violation?.step ?? null;
  const pages = timelinePages(r.steps.map((s) => ({ step: s.step, action: s.action, blocked: s.ev.blocked })), level.cpus.map((c, i) => laneLabel(i, c.name)), cfg.dmaPayload !== null, breakStep, width - 1);
  pages.forEach((p, i) => {
    const range = pages.length > 1 ? ` (steps ${p.from}-${p.to} of ${r.steps.length})` : "";
    out(`${i > 0 ? "\n" : ""}Timeline${range}\n`);
    for (const line of timelineLines(p.rows)) out(`${line.trimEnd()}\n`);
  });
  out(`${TIMELINE_LEGEND}\n\n`);
  if (r.violation) {
    out(`ORACLE ${r.violation.oracle} fired at step ${r.violation.step}: ${r.violation.message}\n`);
    return;
  }
  const states = r.m.cpus.map((_, i) => `CPU${i} ${cpuStatus(cfg, r.m, i).text}`);
  out(`No oracle fired${allDone(cfg, r.m) ? "; every CPU finished" : ""}. ${states.join("; ")}\n`);
}
