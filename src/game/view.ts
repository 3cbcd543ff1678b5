// What clients see of a level and a session: computed here, so clients render
// and never re-implement the rules (a CPU's state, its stack, the DMA).

import type { Level } from "../level/load.js";
import type { CpuView, GameView, LevelInfo, Listing } from "../protocol/server.js";
import type { Config } from "../sim/config.js";
import { cpuStatus, currentItem, dmaReady, opEntry } from "../sim/engine.js";
import { ORACLES } from "../sim/oracles.js";
import { getPath, lineOf, resolvePath } from "../sim/path.js";
import { machineView } from "./machineview.js";
import { compiledFor, current, type Session } from "./session.js";
import { runCommand } from "./share.js";

export function levelInfo(level: Level): LevelInfo {
  return {
    id: level.id,
    title: level.title,
    mode: level.mode,
    race: level.race,
    cpus: level.cpus.map((c) => ({ name: c.name, ...(c.side ? { side: c.side } : {}) })),
    dma: level.device !== undefined,
    par: level.par ?? null,
    parPreemptions: level.preemptions ?? null,
    hints: level.hints.length,
    knobs: level.knobs.map((k) => ({
      id: k.id,
      prompt: k.prompt,
      options: k.options.map((o) => ({ value: o.value, label: o.label, ...(o.cost ? { cost: o.cost } : {}) })),
    })),
    goal: (Array.isArray(level.goal.oracle) ? level.goal.oracle : [level.goal.oracle]).map((id) => ORACLES[id]?.title ?? id),
    thread: level.thread ? { subject: level.thread.subject, date: level.thread.date } : null,
    // Where the level comes from: the built-in campaign, or a `serve --levels` file.
    source: level.source ?? "campaign",
  };
}

/** A kernel path's listing under this configuration: every line the player may see it run. */
export function listingOf(cfg: Config, id: string): Listing {
  const p = getPath(id);
  return { fn: p.name, source: p.source, generation: p.generation, lines: p.steps.map((s) => lineOf(s, cfg)) };
}

/** The paths a view names: each CPU's innermost frame, the path it enters next, and its menu's entries. */
export function pathsNamed(cpus: readonly CpuView[]): string[] {
  const out = new Set<string>();
  for (const c of cpus) {
    const top = c.frames[c.frames.length - 1];
    if (top) out.add(top.path);
    if (c.upcoming) out.add(c.upcoming.path);
    for (const e of c.choiceEntries ?? []) out.add(e.path);
  }
  return [...out];
}

/**
 * Which listings a view carries: `sent` are those its receivers already have
 * (the room keeps them per attempt and knob setting); `all` (a snapshot) also
 * sends those again.
 */
export interface Listed {
  sent: ReadonlySet<string>;
  all: boolean;
}

/**
 * The line of `p` that called `callee`: the one before the caller's pc (where a
 * plain call leaves it), the one at it (a call that resumes by the callee's
 * result), else the first that names the callee; else the one before the pc.
 */
export function callLine(p: ReturnType<typeof getPath>, pc: number, callee: string, cfg: Parameters<typeof lineOf>[1]): string {
  const name = callee.replace(/ \(.*\)$/, "");
  const text = (i: number) => (p.steps[i] ? lineOf(p.steps[i], cfg) : "");
  const calls = (i: number) => text(i).includes(`${name}(`);
  if (pc > 0 && calls(pc - 1)) return text(pc - 1);
  if (calls(pc)) return text(pc);
  const i = p.steps.findIndex((_, k) => calls(k));
  if (i >= 0) return text(i);
  // A call under another name (flush_tlb_mm() entering flush_tlb_mm_range()): where a plain call leaves the pc.
  return text(pc > 0 ? pc - 1 : pc);
}

export function gameView(level: Level, s: Session, attempt: string, nextLevel: string | null, listed: Listed = { sent: new Set(), all: true }): GameView {
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const entryOf = (op: Parameters<typeof opEntry>[0]) => {
    const p = getPath(resolvePath(opEntry(op).name, c.cfg));
    return { fn: p.name, path: p.id, source: p.source, generation: p.generation };
  };
  const cpus: CpuView[] = m.cpus.map((cpu, i) => {
    const st = cpuStatus(c.cfg, m, i);
    // Between operations: what the CPU's next step enters (a menu: each choice's entry).
    const item = cpu.frames.length === 0 && !cpu.done ? currentItem(c.cfg, m, i) : null;
    const top = cpu.frames[cpu.frames.length - 1];
    return {
      cpu: i,
      name: cpu.name,
      state: st.state,
      text: st.text,
      ...(st.state === "menu" ? { choices: st.choices } : {}),
      frames: cpu.frames.map((f, j) => {
        const p = getPath(f.path);
        const at = p.steps[f.pc];
        // A caller's pc has moved past its call: show the line that made the call.
        const callee = cpu.frames[j + 1];
        const line = callee ? callLine(p, f.pc, getPath(callee.path).name, c.cfg) : at ? lineOf(at, c.cfg) : "";
        return { fn: p.name, path: p.id, source: p.source, generation: p.generation, pc: f.pc, line };
      }),
      ...(top ? { locals: top.l } : {}),
      upcoming: item && !("choose" in item) ? entryOf(item.op) : null,
      ...(item && "choose" in item ? { choiceEntries: item.choose.map((o) => { const e = entryOf(o.op); return { fn: e.fn, path: e.path }; }) } : {}),
    };
  });
  const named = pathsNamed(cpus);
  const ids = listed.all ? [...new Set([...listed.sent, ...named])] : named.filter((id) => !listed.sent.has(id));
  return {
    attempt,
    level: level.id,
    phase: s.phase,
    knobs: s.knobs,
    steps: s.trace.length,
    moves: s.moves,
    preemptions: s.preemptions,
    hints: s.hints,
    hintsUsed: s.hintsUsed,
    rewinds: s.rewinds,
    resets: s.resets,
    cpus,
    dma: c.cfg.dmaPayload === null ? null : { ready: dmaReady(c.cfg, m), done: m.dma.done },
    machine: m as unknown as Record<string, unknown>,
    view: machineView(m, c.cfg, c.cfg.dmaPayload === null ? null : { ready: dmaReady(c.cfg, m), done: m.dma.done }),
    listings: Object.fromEntries(ids.map((id) => [id, listingOf(c.cfg, id)])),
    result: s.result,
    offers: s.result ? { replay: true, retry: true, next: nextLevel } : null,
    debrief: s.result ? debriefText(level, s) : null,
  };
}

/**
 * The debrief for the result. A hunt's and a versus level's is the level's. A
 * defence's follows the outcome: won, why the chosen fix held (each option's
 * `explain`), then the level's debrief; lost, why it failed, the schedule that
 * breaks it (this attempt's own trace, which the debrief replays, or the
 * explorer's counterexample with the command that replays it), and the fixes
 * that hold.
 */
export function debriefText(level: Level, s: Session): string {
  const r = s.result;
  if (!r || level.mode !== "defend" || level.knobs.length === 0) return level.debrief;
  const chosen = level.knobs.map((k) => ({ k, o: k.options.find((o) => o.value === s.knobs[k.id]) ?? k.options[0] }));
  const setting = chosen.map(({ k, o }) => `${k.id}=${o.value}`).join(" ");
  const named = chosen.map(({ o }) => o.label).join("; ");
  const explained = chosen.flatMap(({ o }) => (o.explain ? [o.explain] : [])).join(" ");
  if (r.outcome === "won") {
    return [`Why your fix held (${named}): ${explained || "the explorer tried every schedule and none breaks it."}`, "", level.debrief.trim()].join("\n");
  }
  const out = [`Why your fix failed (${named}): ${explained || "a schedule breaks it."}`, ""];
  if (r.reason === "unsafe-fix") {
    out.push(
      r.counterexample
        ? `Every CPU finished this time, but the explorer found a schedule that breaks it: ${r.counterexample}. Replay it step by step: ${runCommand(level, s.knobs, r.counterexample)}`
        : `Every CPU finished this time, but the explorer could not prove the fix (${setting}) safe.`,
    );
  } else {
    const what = r.reason === "deadlock" ? "Deadlock" : r.reason === "livelock" ? "Livelock" : "The race happened";
    out.push(`${what} at step ${r.oracle?.step ?? r.steps}: ${r.oracle?.message ?? "an invariant broke"}. This attempt's trace is the counterexample: p replays it step by step.`);
  }
  const holds = level.knobs.length === 1 ? level.knobs[0].options.filter((o) => o.expect === "safe") : [];
  if (holds.length) out.push("", `What holds: ${holds.map((o) => `${o.label}${o.explain ? ` (${o.explain})` : ""}`).join("; ")}.`);
  out.push("", level.debrief.trim());
  return out.join("\n");
}
