// The schedule syntax shared by `faultline run --schedule`, `verify --json`
// and the explorer: whitespace- or comma-separated tokens, one per step.
//   3        step CPU 3
//   1:fork   step CPU 1, choosing "fork" from its menu
//   d        step the DMA device
//   2*4      step CPU 2 four times (any token may take *N)
//   3+       run CPU 3 to its next decision (the game's Enter key, src/sim/decide.ts);
//            1:fork+ picks fork from CPU 1's menu and runs on; 3+*2 runs twice

import type { Action } from "./types.js";

export class ScheduleError extends Error {}

/** One token's worth of schedule: a step, or a run to the next decision (whose lines depend on the machine). */
export type ScheduleItem = Action | { run: number; choice?: string };

const TOKEN = /^(?:(\d+)(?::([A-Za-z_][\w-]*))?|(d|dma))(\+)?(?:\*(\d+))?$/;

/** Parse a schedule that may hold run tokens (N+); runSchedule() plays them. */
export function parseScheduleItems(s: string): ScheduleItem[] {
  const out: ScheduleItem[] = [];
  const tokens = s.split(/[\s,]+/).filter((t) => t.length > 0);
  for (const t of tokens) {
    const m = TOKEN.exec(t);
    if (!m) {
      throw new ScheduleError(
        `bad schedule token "${t}": expected a CPU number (3), a CPU with a menu choice (1:fork), d for the DMA device, or a CPU run to its next decision (3+, 1:fork+), optionally with *N`,
      );
    }
    const times = m[5] === undefined ? 1 : Number(m[5]);
    if (times < 1 || times > 10_000) throw new ScheduleError(`bad repeat count in "${t}": use 1 to 10000`);
    let item: ScheduleItem;
    if (m[4]) {
      if (m[3]) throw new ScheduleError(`bad schedule token "${t}": the DMA device writes once; it has no run (use d)`);
      item = m[2] ? { run: Number(m[1]), choice: m[2] } : { run: Number(m[1]) };
    } else item = m[3] ? { dma: true } : m[2] ? { cpu: Number(m[1]), choice: m[2] } : { cpu: Number(m[1]) };
    for (let i = 0; i < times; i++) out.push(item);
  }
  return out;
}

/** Parse a schedule of single steps (no run tokens: their lines depend on the machine). */
export function parseSchedule(s: string): Action[] {
  return parseScheduleItems(s).map((x) => {
    if ("run" in x) throw new ScheduleError(`"${x.run}${x.choice ? `:${x.choice}` : ""}+" runs to the next decision: it needs the level's machine (faultline run plays it)`);
    return x;
  });
}

const tokenOf = (x: ScheduleItem): string => {
  if ("run" in x) return `${x.run}${x.choice ? `:${x.choice}` : ""}+`;
  return "dma" in x ? "d" : x.choice ? `${x.cpu}:${x.choice}` : String(x.cpu);
};

/** Format a schedule, folding runs of the same token without a menu choice into N*K (3 3 3 -> 3*3, 1+ 1+ -> 1+*2). */
export function formatSchedule(items: readonly ScheduleItem[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < items.length) {
    const t = tokenOf(items[i]);
    let j = i + 1;
    if (!t.includes(":")) while (j < items.length && tokenOf(items[j]) === t) j++;
    out.push(j - i > 1 ? `${t}*${j - i}` : t);
    i = j;
  }
  return out.join(" ");
}
