// The hint ladder: rung 1 a nudge and rung 2 the CPU and line that matter
// (both written in the level file), rung 3 the exact next step, computed by
// the explorer from the current machine so it is right wherever the players are.

import { currentItem, cpuLabel } from "../sim/engine.js";
import { explore } from "../sim/explore.js";
import { getPath, lineOf, resolvePath } from "../sim/path.js";
import { opEntry } from "../sim/engine.js";
import type { Action, Machine } from "../sim/types.js";
import type { Compiled, KnobSetting } from "./compile.js";
import type { Level } from "./load.js";

export interface Hint {
  rung: 1 | 2 | 3;
  text: string;
  /** Rung 3 of a hunt: the step to take now. */
  action?: Action;
  /** Rung 3 of a defend level: a knob setting that survives every schedule. */
  knobs?: KnobSetting;
}

/** The line an action would run next, as the player will see it. */
export function nextLine(c: Compiled, m: Machine, a: Action): string {
  if ("dma" in a) return "the device writes the page it was given";
  const cpu = m.cpus[a.cpu];
  const top = cpu.frames[cpu.frames.length - 1];
  if (top) return lineOf(getPath(top.path).steps[top.pc], c.cfg);
  const item = currentItem(c.cfg, m, a.cpu);
  if (!item) return "";
  const op = "choose" in item ? item.choose.find((o) => o.label === a.choice)?.op : item.op;
  if (!op) return "";
  return lineOf(getPath(resolvePath(opEntry(op).name, c.cfg)).steps[0], c.cfg);
}

export function hint(level: Level, c: Compiled, m: Machine, rung: 1 | 2 | 3): Hint {
  if (rung < 3) return { rung, text: level.hints[rung - 1] };
  if (level.mode === "defend") {
    const knobs: KnobSetting = {};
    const why: string[] = [];
    for (const k of level.knobs) {
      const safe = k.options.find((o) => o.expect === "safe");
      if (!safe) return { rung, text: level.hints[2] ?? level.hints[1] };
      knobs[k.id] = safe.value;
      why.push(`${k.id}: ${safe.label}${safe.explain ? `. ${safe.explain}` : ""}`);
    }
    return { rung, text: `Choose ${why.join("; ")}`, knobs };
  }
  const r = explore(c.cfg, m, { oracles: c.oracles });
  if (r.verdict === "reachable" && r.schedule && r.schedule.length === 0) return { rung, text: "The goal has been reached." };
  if (r.verdict !== "reachable" || !r.schedule) {
    return { rung, text: "From here no schedule reaches the goal: rewind to an earlier step and choose differently." };
  }
  const a = r.schedule[0];
  const who = "dma" in a ? "the DMA device" : cpuLabel(c.cfg, a.cpu) + (a.choice ? `, choosing ${a.choice}` : "");
  const left = r.schedule.length;
  return { rung, action: a, text: `Step ${who}: it runs \`${nextLine(c, m, a)}\`. The goal is ${left} step${left === 1 ? "" : "s"} away.` };
}
