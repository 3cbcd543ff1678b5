// Sharing an attempt: its schedule in the `faultline run --schedule` syntax
// (src/sim/schedule.ts) and the command that replays it. Built here, once, for
// every result; the debrief shows what the server sends (Result.share).

import type { KnobSetting } from "../level/compile.js";
import type { Level } from "../level/load.js";
import type { Result, TraceEntry } from "../protocol/server.js";
import { formatSchedule, type ScheduleItem } from "../sim/schedule.js";

/**
 * The entries trace[from..to-1] came from one `run` command (run to the next
 * decision): the schedule writes them as one N+ token, which replays the same
 * lines because `faultline run` stops a run where the room's run stopped
 * (src/sim/decide.ts; the end of the attempt is the last token either way).
 */
export interface RunSpan {
  from: number;
  to: number;
}

export type Share = NonNullable<Result["share"]>;

/** The final trace as schedule tokens: a run the players made as N+ (with its menu pick), every other step as itself. */
export function traceSchedule(trace: readonly TraceEntry[], spans: readonly RunSpan[]): string {
  const items: ScheduleItem[] = [];
  const startAt = new Map(spans.map((r) => [r.from, r]));
  for (let i = 0; i < trace.length; ) {
    const span = startAt.get(i);
    const a = trace[i].action;
    if (span && span.to > i && "cpu" in a) {
      items.push(a.choice === undefined ? { run: a.cpu } : { run: a.cpu, choice: a.choice });
      i = span.to;
    } else {
      items.push(a);
      i++;
    }
  }
  return formatSchedule(items);
}

/** A word the shell passes through as it is, or the word in single quotes. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that replays `schedule` on `level` with these knobs, ready to
 * paste into a shell. A custom level (serve --levels) is named by its file,
 * which `faultline run` loads where the file is; every knob is spelled out,
 * so a later change of a default does not change what it replays.
 */
export function runCommand(level: Pick<Level, "id" | "source" | "knobs">, knobs: KnobSetting, schedule: string): string {
  const custom = level.source?.match(/^custom: (.+)$/)?.[1];
  const knobArgs = level.knobs.map((k) => ` --knob ${shellWord(`${k.id}=${knobs[k.id] ?? k.options[0].value}`)}`).join("");
  // Schedule tokens are digits, letters, _ - : + * and spaces: nothing a double-quoted word expands.
  return `faultline run ${shellWord(custom ?? level.id)} --schedule "${schedule}"${knobArgs}`;
}

/** What the debrief offers to share: the attempt's schedule and the command that reproduces it. */
export function shareOf(level: Level, knobs: KnobSetting, trace: readonly TraceEntry[], spans: readonly RunSpan[]): Share {
  const schedule = traceSchedule(trace, spans);
  return { schedule, command: runCommand(level, knobs, schedule) };
}
