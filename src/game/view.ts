// What clients see of a level and a session: computed here, so clients render
// and never re-implement the rules (a CPU's state, its stack, the DMA).

import type { Level } from "../level/load.js";
import type { CpuView, GameView, LevelInfo } from "../protocol/server.js";
import { cpuStatus, dmaReady } from "../sim/engine.js";
import { getPath, lineOf } from "../sim/path.js";
import { compiledFor, current, type Session } from "./session.js";

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
    knobs: level.knobs.map((k) => ({ id: k.id, prompt: k.prompt, options: k.options.map((o) => ({ value: o.value, label: o.label })) })),
  };
}

export function gameView(level: Level, s: Session, attempt: string, nextLevel: string | null): GameView {
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const cpus: CpuView[] = m.cpus.map((cpu, i) => {
    const st = cpuStatus(c.cfg, m, i);
    return {
      cpu: i,
      name: cpu.name,
      state: st.state,
      text: st.text,
      ...(st.state === "menu" ? { choices: st.choices } : {}),
      frames: cpu.frames.map((f) => {
        const p = getPath(f.path);
        const at = p.steps[f.pc];
        return { fn: p.name, path: p.id, source: p.source, pc: f.pc, line: at ? lineOf(at, c.cfg) : "" };
      }),
    };
  });
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
    result: s.result,
    offers: s.result ? { replay: true, retry: true, next: nextLevel } : null,
    debrief: s.result ? level.debrief : null,
  };
}
