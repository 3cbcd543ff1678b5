// A level plus one knob setting becomes the (config, machine) pair the pure
// simulator runs, with the oracles to watch and the verdict the file expects.

import type { Config, KernelConfig, Op, ProgramItem } from "../sim/config.js";
import { BootError, bootMachine, type MachineSpec } from "../sim/boot.js";
import type { OracleId } from "../sim/oracles.js";
import { CONT_PTES } from "../sim/pte.js";
import type { Machine } from "../sim/types.js";
import { eraProblems, kernelOf, type EraProblem } from "./eras.js";
import { condHolds, LevelError, type Level, type RawOp } from "./load.js";
import type { GENERATIONS, KnobOption } from "./schema.js";

type Preset = Pick<KernelConfig, "do_wp_page" | "early_cow_pinned" | "write_protect_seq" | "gup_force_cow_break" | "uffd_wp_flush" | "per_vma_lock" | "fork_vma_start_write"> & { fork_batch?: boolean };

/** What each kernel generation does, as races.md R5-R7 and P14 describe. */
export const PRESETS: Record<(typeof GENERATIONS)[number], Preset> = {
  "4.19": { do_wp_page: "mapcount", early_cow_pinned: false, write_protect_seq: false, gup_force_cow_break: false, uffd_wp_flush: false, per_vma_lock: false, fork_vma_start_write: false },
  "5.8": { do_wp_page: "mapcount", early_cow_pinned: false, write_protect_seq: false, gup_force_cow_break: true, uffd_wp_flush: false, per_vma_lock: false, fork_vma_start_write: false },
  // Linus's trial series as posted in the thread: 09854ba94c6a with the forced COW break removed.
  "5.9-rc": { do_wp_page: "page_count", early_cow_pinned: false, write_protect_seq: false, gup_force_cow_break: false, uffd_wp_flush: false, per_vma_lock: false, fork_vma_start_write: false },
  "5.9": { do_wp_page: "page_count", early_cow_pinned: true, write_protect_seq: false, gup_force_cow_break: false, uffd_wp_flush: false, per_vma_lock: false, fork_vma_start_write: false },
  "5.11": { do_wp_page: "page_count", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: false, per_vma_lock: false, fork_vma_start_write: false },
  "5.12": { do_wp_page: "page_count", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: false, fork_vma_start_write: false },
  // The Android 5.15 phone tree of races.md R1 (before PageAnonExclusive).
  "5.15": { do_wp_page: "page_count", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: false, fork_vma_start_write: false },
  "5.19": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: false, fork_vma_start_write: false },
  "6.0": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: false, fork_vma_start_write: false },
  // Per-VMA locks landed in 6.4; 6.4.0-6.4.2 forked without vma_start_write(), and 6.4.3
  // turned them off (f96c48670319, depends on BROKEN) besides taking the fork fixes.
  "6.4": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: true, fork_vma_start_write: false },
  "6.5": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: true, fork_vma_start_write: true },
  // f8d937761d65: fork copies a large folio's PTEs in one batch; arm64 transparent contpte merged.
  "6.9": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: true, fork_vma_start_write: true, fork_batch: true },
  "6.x": { do_wp_page: "anon_exclusive", early_cow_pinned: true, write_protect_seq: true, gup_force_cow_break: false, uffd_wp_flush: true, per_vma_lock: true, fork_vma_start_write: true },
};

export type KnobSetting = Record<string, string>;

export interface Compiled {
  cfg: Config;
  machine: Machine;
  /** The goal oracles. */
  oracles: OracleId[];
  expect: "safe" | "reachable";
}

/** Every combination of knob values, in file order (one empty setting for a hunt level). */
export function knobSettings(level: Level): KnobSetting[] {
  let out: KnobSetting[] = [{}];
  for (const k of level.knobs) out = out.flatMap((s) => k.options.map((o) => ({ ...s, [k.id]: o.value })));
  return out;
}

/** Parse `--knob k=v` arguments against the level, filling unset knobs with their first option. */
export function parseKnobArgs(level: Level, args: string[]): KnobSetting {
  const s: KnobSetting = {};
  for (const a of args) {
    const m = /^([^=]+)=(.*)$/.exec(a);
    if (!m) throw new LevelError(`bad --knob "${a}": expected NAME=VALUE`);
    const knob = level.knobs.find((k) => k.id === m[1]);
    if (!knob) {
      const known = level.knobs.map((k) => k.id);
      throw new LevelError(`level ${level.id} has no knob "${m[1]}"${known.length ? ` (knobs: ${known.join(", ")})` : " (it has no knobs)"}`);
    }
    if (!knob.options.some((o) => o.value === m[2])) {
      throw new LevelError(`knob ${knob.id} has no value "${m[2]}" (values: ${knob.options.map((o) => o.value).join(", ")})`);
    }
    s[knob.id] = m[2];
  }
  for (const k of level.knobs) if (!(k.id in s)) s[k.id] = k.options[0].value;
  return s;
}

export function expectedVerdict(level: Level, setting: KnobSetting): "safe" | "reachable" {
  // A versus level is checked like a hunt: red must have a way to make the goal fire.
  if (level.mode === "hunt" || level.mode === "versus") return level.goal.expect ?? "reachable";
  const full = Object.fromEntries(level.knobs.map((k) => [k.id, setting[k.id] ?? k.options[0].value]));
  const rule = level.goal.expect_when.find((r) => Object.entries(r.knobs).every(([k, v]) => full[k] === v));
  if (rule) return rule.expect;
  const opts = level.knobs.map((k) => k.options.find((o) => o.value === (setting[k.id] ?? k.options[0].value))!);
  return opts.every((o) => o.expect === "safe") ? "safe" : "reachable";
}

export function goalOracles(level: Level): OracleId[] {
  return Array.isArray(level.goal.oracle) ? level.goal.oracle : [level.goal.oracle];
}

/** The options a knob setting chooses, in knob order (a knob left out takes its first option). */
function chosenOptions(level: Level, setting: KnobSetting): KnobOption[] {
  return level.knobs.map((k) => {
    const v = setting[k.id] ?? k.options[0].value;
    const opt = k.options.find((o) => o.value === v);
    if (!opt) throw new LevelError(`knob ${k.id} has no value "${v}"`);
    return opt;
  });
}

const paramsOf = (level: Level, options: KnobOption[]) => Object.assign({ ...level.params }, ...options.map((o) => o.set.params ?? {})) as Record<string, unknown>;

/** The machine a knob setting starts from: the level's, with each chosen option's `set.machine`. */
function machineOf(level: Level, options: KnobOption[]): Level["machine"] {
  const m = { ...level.machine };
  for (const o of options) {
    const s = o.set.machine;
    if (!s) continue;
    if (s.shootdown !== undefined) m.shootdown = s.shootdown;
    if (s.frames !== undefined) m.frames = s.frames;
    if (s.table_entries !== undefined) m.table_entries = s.table_entries;
  }
  return m;
}

/** A CPU's program under these parameters: `if:` drops operations and menu choices; a menu left with one choice is that operation. */
function resolvedItems(level: Level, i: number, params: Record<string, unknown>): (RawOp | { choose: RawOp[] })[] {
  const out: (RawOp | { choose: RawOp[] })[] = [];
  for (const item of level.programs[i]) {
    if ("choose" in item) {
      const live = item.choose.filter((o) => condHolds(o.if, params));
      if (live.length === 1) out.push(live[0]);
      else if (live.length > 1) out.push({ choose: live });
    } else if (condHolds(item.if, params)) out.push(item);
  }
  return out;
}

/** Problems of one knob setting that are not about eras: a looping CPU left with nothing to run, a param out of range. */
function settingProblems(level: Level, params: Record<string, unknown>): EraProblem[] {
  const out: EraProblem[] = [];
  level.cpus.forEach((c, i) => {
    if (c.loop && resolvedItems(level, i, params).length === 0) {
      out.push({ key: `cpus[${i}].loop`, message: `${c.name} loops, but if: switches off every operation it runs, so it would show as finished while it stands for endless work; give it an operation that always runs, or do not loop it` });
    }
  });
  level.machine.processes.forEach((p, i) =>
    p.pages.forEach((pg, j) => {
      if (typeof pg.refs !== "string") return;
      const v = params[pg.refs.slice(1)];
      if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 8)) out.push({ key: `machine.processes[${i}].pages[${j}].refs`, message: `${pg.refs} is ${JSON.stringify(v)}; expected a number of references from 0 to 8` });
    }),
  );
  return out;
}

/** Era problems and setting problems together. */
const allProblems = (level: Level, opts: KnobOption[]): EraProblem[] => {
  const params = paramsOf(level, opts);
  return [...eraProblems(level, kernelOf(level, opts, PRESETS), params), ...settingProblems(level, params)];
};

const problemText = (ps: EraProblem[]) => ps.map((p) => `${p.key}: ${p.message}`).join("; ");

/**
 * Refuse what the model cannot say (races.md; issue 15 item 9): every knob setting's kernel must
 * have had the operations and flags the level uses, in a combination the simulator models. A
 * problem that one knob option brings is reported against that option.
 */
export function checkLevelEras(level: Level, settings: KnobSetting[] = knobSettings(level)): void {
  const file = level.file;
  for (const s of settings) {
    const opts = chosenOptions(level, s);
    const ps = allProblems(level, opts);
    if (!ps.length) continue;
    if (!level.knobs.length) throw new LevelError(`${file}: ${problemText(ps)}`);
    // Blame the option that brings the problem by itself, if one does.
    for (const [i, k] of level.knobs.entries()) {
      const j = k.options.indexOf(opts[i]);
      const alone = allProblems(level, [opts[i]]);
      if (alone.length) throw new LevelError(`${file}: knobs[${i}].options[${j}] (${k.id}=${opts[i].value}): ${problemText(alone)}`);
    }
    const named = level.knobs.map((k, i) => `${k.id}=${opts[i].value}`).join(", ");
    throw new LevelError(`${file}: knobs (${named}): ${problemText(ps)}`);
  }
}

export function compileLevel(level: Level, setting: KnobSetting = {}): Compiled {
  const options = chosenOptions(level, setting);
  const params: Record<string, unknown> = paramsOf(level, options);
  checkLevelEras(level, [Object.fromEntries(level.knobs.map((k, i) => [k.id, options[i].value]))]);
  const kernel: KernelConfig = kernelOf(level, options, PRESETS);
  const file = level.file;
  const machine = machineOf(level, options);
  if (kernel.contpte !== "none" && machine.shootdown !== "broadcast") {
    throw new LevelError(`${file}: kernel.contpte: contiguous PTEs are arm64's, and arm64 shoots TLBs down by broadcast (machine.shootdown: broadcast; races.md P5)`);
  }
  if (kernel.contpte !== "none" && machine.table_entries % CONT_PTES !== 0) {
    throw new LevelError(`${file}: machine.table_entries: a multiple of ${CONT_PTES} is needed for contiguous blocks`);
  }

  const procIndex = new Map(level.machine.processes.map((p, i) => [p.name, i]));
  const resolveOp = (o: RawOp): { op: Op; label: string } => {
    const op: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o.op)) op[k] = typeof v === "string" && v.startsWith("$") ? params[v.slice(1)] : v;
    return { op: op as Op, label: o.label };
  };
  const cpus = level.cpus.map((c, i) => {
    const program: ProgramItem[] = resolvedItems(level, i, params).map((item) => ("choose" in item ? { choose: item.choose.map(resolveOp) } : resolveOp(item)));
    return { name: c.name, program, process: procIndex.get(c.process)!, loop: c.loop };
  });

  const cfg: Config = {
    kernel,
    shootdown: machine.shootdown,
    ptrs: machine.table_entries,
    cpus,
    dmaPayload: level.device?.dma.writes ?? null,
    varNames: level.machine.globals ? ["counter", "increments"] : [],
    lockNames: level.machine.locks,
    processNames: level.machine.processes.map((p) => p.name),
    parents: level.machine.processes.map((p) => {
      const parent = p.child_of ?? p.forked_from;
      return parent === undefined ? -1 : procIndex.get(parent)!;
    }),
  };
  return { cfg, machine: bootLevel({ ...level, machine }, cfg, params), oracles: goalOracles(level), expect: expectedVerdict(level, setting) };
}

/** The machine a level starts from, as the simulator's plain-data spec (`$param` references resolved). */
function machineSpec(level: Level, params: Record<string, unknown>): MachineSpec {
  const procs = level.machine.processes;
  return {
    frames: level.machine.frames,
    counter: level.machine.globals ? level.machine.globals.counter : null,
    locks: level.machine.locks.length,
    processes: procs.map((p) => ({
      name: p.name,
      unborn: p.child_of !== undefined,
      forkedFrom: p.forked_from === undefined ? null : procs.findIndex((q) => q.name === p.forked_from),
      vmas: p.vmas.map((v) => ({ start: v.start, pages: v.pages, write: v.write, uffdWp: v.uffd_wp })),
      pages: p.pages.map((pg) => ({ page: pg.page, data: pg.data, nr: pg.nr, refs: typeof pg.refs === "string" ? (params[pg.refs.slice(1)] as number) : pg.refs })),
    })),
    cpus: level.cpus.map((c) => ({ name: c.name, irqsOff: c.irqs_off, needResched: c.need_resched, tlb: c.tlb })),
  };
}

/** Boot a level's machine, naming the level's file in what the simulator refuses. */
function bootLevel(level: Level, cfg: Config, params: Record<string, unknown>): Machine {
  try {
    return bootMachine(machineSpec(level, params), cfg);
  } catch (e) {
    if (e instanceof BootError) throw new LevelError(`${level.file}: ${e.message}`);
    throw e;
  }
}
