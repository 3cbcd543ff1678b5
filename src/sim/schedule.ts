// The schedule syntax shared by `faultline run --schedule`, `verify --json`
// and the explorer: whitespace- or comma-separated tokens, one per step.
//   3        step CPU 3
//   1:fork   step CPU 1, choosing "fork" from its menu
//   d        step the DMA device
//   2*4      step CPU 2 four times (any token may take *N)

import type { Action } from "./types.js";

export class ScheduleError extends Error {}

const TOKEN = /^(?:(\d+)(?::([A-Za-z_][\w-]*))?|(d|dma))(?:\*(\d+))?$/;

export function parseSchedule(s: string): Action[] {
  const out: Action[] = [];
  const tokens = s.split(/[\s,]+/).filter((t) => t.length > 0);
  for (const t of tokens) {
    const m = TOKEN.exec(t);
    if (!m) throw new ScheduleError(`bad schedule token "${t}": expected a CPU number (3), a CPU with a menu choice (1:fork), or d for the DMA device, optionally with *N`);
    const times = m[4] === undefined ? 1 : Number(m[4]);
    if (times < 1 || times > 10_000) throw new ScheduleError(`bad repeat count in "${t}": use 1 to 10000`);
    const a: Action = m[3] ? { dma: true } : m[2] ? { cpu: Number(m[1]), choice: m[2] } : { cpu: Number(m[1]) };
    for (let i = 0; i < times; i++) out.push(a);
  }
  return out;
}

const tokenOf = (a: Action): string => ("dma" in a ? "d" : a.choice ? `${a.cpu}:${a.choice}` : String(a.cpu));

/** Format a schedule, folding runs of the same plain token into N*K. */
export function formatSchedule(actions: readonly Action[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < actions.length) {
    const t = tokenOf(actions[i]);
    let j = i + 1;
    if (!t.includes(":")) while (j < actions.length && tokenOf(actions[j]) === t) j++;
    out.push(j - i > 1 ? `${t}*${j - i}` : t);
    i = j;
  }
  return out.join(" ");
}
