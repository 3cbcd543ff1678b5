// Small fixture levels for unit tests, written as the YAML players' levels use.

import { compileLevel, type Compiled, type KnobSetting } from "../src/level/compile.js";
import { parseLevel, type Level } from "../src/level/load.js";
import { step } from "../src/sim/engine.js";
import { getPath, lineOf } from "../src/sim/path.js";
import { parseSchedule } from "../src/sim/schedule.js";
import type { Machine } from "../src/sim/types.js";

export interface Fixture {
  generation?: string;
  kernel?: string; // extra kernel keys, YAML flow syntax without braces
  shootdown?: "ipi-ack" | "broadcast";
  frames?: number;
  processes?: string; // YAML list items
  cpus: string; // YAML list items
  device?: string;
  goal?: string;
  extra?: string;
}

/** A hunt level around the given machine; goal and par are placeholders unless given. */
export function fixtureYaml(f: Fixture): string {
  return `id: fixture
title: Fixture
race: basics
mode: hunt
seed: null
thread: null
label: teaching
kernel: { generation: "${f.generation ?? "5.9"}"${f.kernel ? `, ${f.kernel}` : ""} }
machine:
  shootdown: ${f.shootdown ?? "ipi-ack"}
  frames: ${f.frames ?? 8}
  processes:
${f.processes ?? `    - name: A
      vmas: [{ start: 0, pages: 2 }]
      pages: [{ page: 0, data: hello }]
    - { name: B, child_of: A }`}
cpus:
${f.cpus}
${f.device ?? ""}
goal: { oracle: ${f.goal ?? "lost-dma-write"} }
par: 1
hints: [one, two]
intro: fixture
debrief: fixture
${f.extra ?? ""}
`;
}

export function fixtureLevel(f: Fixture): Level {
  return parseLevel("fixture.yaml", fixtureYaml(f));
}

export function fixture(f: Fixture, knobs: KnobSetting = {}): Compiled {
  return compileLevel(fixtureLevel(f), knobs);
}

/** Apply a schedule with no oracle stopping it; returns the final machine. */
export function play(c: Compiled, schedule: string): Machine {
  let m = c.machine;
  for (const a of parseSchedule(schedule)) m = step(c.cfg, m, a).m;
  return m;
}

/** Step one CPU until its current operation finishes; throws if it blocks. */
export function runOp(c: Compiled, m: Machine, cpu: number, limit = 200): Machine {
  for (let i = 0; i < limit; i++) {
    const r = step(c.cfg, m, { cpu });
    if (r.ev.blocked) throw new Error(`CPU${cpu} blocked at: ${r.ev.line}`);
    m = r.m;
    if (m.cpus[cpu].frames.length === 0) return m;
  }
  throw new Error(`CPU${cpu} did not finish its operation in ${limit} steps`);
}

/** Step a CPU until the next line to run contains `text` (not running it). */
export function runUntil(c: Compiled, m: Machine, cpu: number, text: string, limit = 200): Machine {
  for (let i = 0; i < limit; i++) {
    if (currentLine(c, m, cpu).includes(text)) return m;
    const r = step(c.cfg, m, { cpu });
    if (r.ev.blocked) throw new Error(`CPU${cpu} blocked at: ${r.ev.line}`);
    m = r.m;
  }
  throw new Error(`CPU${cpu} never reached "${text}"`);
}

export function currentLine(c: Compiled, m: Machine, cpu: number): string {
  const f = m.cpus[cpu].frames[m.cpus[cpu].frames.length - 1];
  if (!f) return "";
  return lineOf(getPath(f.path).steps[f.pc], c.cfg);
}

