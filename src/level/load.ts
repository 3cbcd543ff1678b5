// Loading level files: YAML -> schema -> semantic checks. Every error names
// the file, the key and what was expected.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, parseDocument } from "yaml";
import type { z } from "zod";
import type { Op } from "../sim/config.js";
import { checkLevelEras } from "./compile.js";
import { levelSchema, type LevelFile } from "./schema.js";

export class LevelError extends Error {}

/** A validated level with its CPU programs parsed (parameters still unresolved). */
export interface Level extends LevelFile {
  file: string;
  /** Per CPU, the program with `$param` references left in place. */
  programs: RawItem[][];
  /** Where the level comes from, shown to players: absent for the campaign, "custom: FILE" for serve --levels. */
  source?: string;
}

/** `if`: a parameter's name (run when it is true), or `!name` (run when it is not), or null. */
export type RawOp = { op: Record<string, unknown> & { kind: Op["kind"] }; label: string; if: string | null };

/** Whether an operation's `if:` lets it run under these parameter values. */
export function condHolds(cond: string | null, params: Record<string, unknown>): boolean {
  if (cond === null) return true;
  return cond.startsWith("!") ? params[cond.slice(1)] !== true : params[cond] === true;
}
export type RawItem = RawOp | { choose: RawOp[] };

/** Each operation's arguments and their types (levels/README.md, "Operations"). */
export const OP_ARGS: Record<Op["kind"], Record<string, "int" | "bool" | "string" | "advice">> = {
  load: { page: "int" },
  store: { page: "int", value: "string" },
  fork: {},
  exit: {},
  wait_child: {},
  munmap: { page: "int", pages: "int" },
  madvise: { page: "int", pages: "int", advice: "advice" },
  pin_user_pages: { page: "int", write: "bool" },
  get_user_pages: { page: "int", write: "bool" },
  pin_user_pages_fast: { page: "int", write: "bool" },
  vmsplice: { page: "int" },
  uffd_unprotect: { page: "int" },
  counter_inc: { lock: "bool" },
  mthp_fault: { page: "int" },
  try_to_unmap: { page: "int" },
  mremap: { page: "int", pages: "int", to: "int" },
};
export const OP_KINDS = Object.keys(OP_ARGS) as Op["kind"][];

/** Find the levels/ folder: beside package.json, wherever this module runs from (src/ or dist/). */
export function levelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "levels", "campaign.yaml"))) return join(dir, "levels");
    const up = dirname(dir);
    if (up === dir) throw new LevelError("cannot find the levels/ folder (levels/campaign.yaml) above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

function zodPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(top level)";
}

function formatZod(file: string, err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const at = zodPath(i.path);
      if (i.code === "unrecognized_keys") return `${file}: ${at}: unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`;
      // A key left out (or misspelt: the misspelling is reported as unknown beside it).
      const missing = /^Invalid input: expected (\w+), received undefined$/.exec(i.message);
      if (missing) return `${file}: ${at}: missing (expected ${missing[1] === "array" ? "a list" : missing[1] === "object" ? "a map" : `a ${missing[1]}`})`;
      return `${file}: ${at}: ${i.message}`;
    })
    .join("\n");
}

function parseOp(file: string, at: string, raw: unknown, params: Record<string, unknown>): RawOp {
  if (typeof raw === "string") {
    if (raw === "fork" || raw === "exit" || raw === "wait_child") return { op: { kind: raw }, label: raw, if: null };
    throw new LevelError(`${file}: ${at}: unknown operation "${raw}" (a bare word may be fork, exit or wait_child; others take arguments, e.g. { store: { page: 0, value: x } })`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new LevelError(`${file}: ${at}: expected an operation such as fork, exit or { store: { page: 0, value: x } }`);
  }
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => k !== "if" && k !== "label");
  const kinds = keys.filter((k) => (OP_KINDS as string[]).includes(k));
  const unknown = keys.filter((k) => !(OP_KINDS as string[]).includes(k));
  if (unknown.length) throw new LevelError(`${file}: ${at}: unknown operation "${unknown[0]}" (expected one of: ${OP_KINDS.join(", ")})`);
  if (kinds.length !== 1) throw new LevelError(`${file}: ${at}: expected exactly one operation, found ${kinds.length}`);
  const kind = kinds[0] as Op["kind"];
  const argsRaw = o[kind] ?? {};
  if (typeof argsRaw !== "object" || argsRaw === null || Array.isArray(argsRaw)) throw new LevelError(`${file}: ${at}.${kind}: expected a map of arguments`);
  const spec = OP_ARGS[kind];
  const args = argsRaw as Record<string, unknown>;
  for (const k of Object.keys(args)) {
    if (!(k in spec)) throw new LevelError(`${file}: ${at}.${kind}: unknown key "${k}" (expected ${Object.keys(spec).join(", ") || "no arguments"})`);
  }
  for (const [k, type] of Object.entries(spec)) {
    const v = args[k];
    const where = `${file}: ${at}.${kind}.${k}`;
    if (v === undefined) throw new LevelError(`${where}: missing (expected ${type === "int" ? "a page number" : type === "bool" ? "true or false" : type === "advice" ? "dontfork or dontneed" : "a string"})`);
    if (typeof v === "string" && v.startsWith("$")) {
      if (!(v.slice(1) in params)) throw new LevelError(`${where}: parameter ${v} is not declared under params`);
      continue;
    }
    if (type === "int" && !(Number.isInteger(v) && (v as number) >= 0)) throw new LevelError(`${where}: expected a non-negative whole number, got ${JSON.stringify(v)}`);
    if (type === "bool" && typeof v !== "boolean") throw new LevelError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
    if (type === "string" && (typeof v !== "string" || v.length === 0 || v.length > 32)) throw new LevelError(`${where}: expected a string of 1-32 characters`);
    if (type === "advice" && v !== "dontfork" && v !== "dontneed") throw new LevelError(`${where}: expected dontfork or dontneed (the advice modelled), got ${JSON.stringify(v)}`);
  }
  if (kind === "munmap" || kind === "madvise" || kind === "mremap") {
    if (typeof args.pages === "number" && args.pages < 1) throw new LevelError(`${file}: ${at}.${kind}.pages: expected at least 1`);
  }
  let cond: string | null = null;
  if (o.if !== undefined) {
    const name = typeof o.if === "string" ? o.if.replace(/^!\s*/, "") : null;
    if (name === null || !(name in params)) throw new LevelError(`${file}: ${at}.if: expected the name of a declared parameter, or !name for its negation (got ${JSON.stringify(o.if)})`);
    cond = (o.if as string).startsWith("!") ? `!${name}` : name;
  }
  const label = o.label === undefined ? kind : o.label;
  if (typeof label !== "string" || !/^[A-Za-z_][\w-]*$/.test(label)) throw new LevelError(`${file}: ${at}.label: expected a word (letters, digits, _ or -)`);
  return { op: { kind, ...args }, label, if: cond };
}

function parseItem(file: string, at: string, raw: unknown, params: Record<string, unknown>): RawItem {
  if (typeof raw === "object" && raw !== null && "choose" in raw) {
    const keys = Object.keys(raw);
    if (keys.length !== 1) throw new LevelError(`${file}: ${at}: a menu has only the key "choose"`);
    const list = (raw as { choose: unknown }).choose;
    if (!Array.isArray(list) || list.length < 2) throw new LevelError(`${file}: ${at}.choose: expected a list of at least two operations`);
    const ops = list.map((r, i) => parseOp(file, `${at}.choose[${i}]`, r, params));
    const labels = ops.map((o) => o.label);
    const dup = labels.find((l, i) => labels.indexOf(l) !== i);
    if (dup) throw new LevelError(`${file}: ${at}.choose: two choices are called "${dup}"; give one a label`);
    return { choose: ops };
  }
  return parseOp(file, at, raw, params);
}

/** The VMAs a process has when it first runs: its own, or (a child) its parent's, copied by fork. */
export function startVmas(machine: Pick<Level["machine"], "processes">, name: string): { start: number; pages: number }[] {
  const p = machine.processes.find((q) => q.name === name);
  if (!p) return [];
  const parent = p.child_of ?? p.forked_from;
  return parent !== undefined ? startVmas(machine, parent) : p.vmas;
}

/** Parse and check one level file's text. `file` is only used in messages. */
export function parseLevel(file: string, text: string): Level {
  // parseDocument, not parse: a warning (an unresolved tag) must be a message, not a process warning.
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) throw new LevelError(`${file}: YAML error: ${doc.errors[0].message.split("\n")[0]}`);
  for (const w of doc.warnings) {
    const tag = /^Unresolved tag: (!\S*)/.exec(w.message)?.[1];
    const at = w.linePos ? ` (line ${w.linePos[0].line})` : "";
    if (tag) throw new LevelError(`${file}: YAML error: ${tag}${at} is a YAML tag, not a value; to negate a parameter in if:, quote it: if: "${tag}"`);
    throw new LevelError(`${file}: YAML error: ${w.message.split("\n")[0]}`);
  }
  const data: unknown = doc.toJS();
  if (typeof data === "object" && data !== null && "levels" in data && !("id" in data)) {
    throw new LevelError(`${file}: levels: this is a campaign list (the order of the levels), not a level file`);
  }
  const r = levelSchema.safeParse(data);
  if (!r.success) throw new LevelError(formatZod(file, r.error));
  const lv = r.data;
  // Independent checks report together (faultline lint shows every problem, not only the first).
  const problems: string[] = [];
  const collect = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof LevelError)) throw e;
      problems.push(e.message);
    }
  };
  const flush = () => {
    if (problems.length) throw new LevelError(problems.join("\n"));
  };
  const procNames = lv.machine.processes.map((p) => p.name);
  const dupProc = procNames.find((n, i) => procNames.indexOf(n) !== i);
  if (dupProc) throw new LevelError(`${file}: machine.processes: two processes are called ${dupProc}`);
  lv.machine.processes.forEach((p, i) => collect(() => {
    if (p.child_of !== undefined && !procNames.includes(p.child_of)) throw new LevelError(`${file}: machine.processes[${i}].child_of: no process called ${p.child_of}`);
    const parent = p.child_of ?? p.forked_from;
    if (p.child_of !== undefined && p.forked_from !== undefined) throw new LevelError(`${file}: machine.processes[${i}]: give child_of (forked during play) or forked_from (forked before the level starts), not both`);
    if (p.forked_from !== undefined) {
      const j = procNames.indexOf(p.forked_from);
      if (j < 0) throw new LevelError(`${file}: machine.processes[${i}].forked_from: no process called ${p.forked_from}`);
      if (j > i) throw new LevelError(`${file}: machine.processes[${i}].forked_from: list ${p.forked_from} before its child`);
    }
    if (parent !== undefined && (p.vmas.length || p.pages.length)) throw new LevelError(`${file}: machine.processes[${i}]: a child gets its memory from fork; give it no vmas or pages`);
    for (const [j, pg] of p.pages.entries()) {
      if (!p.vmas.some((v) => pg.page >= v.start && pg.page < v.start + v.pages)) throw new LevelError(`${file}: machine.processes[${i}].pages[${j}]: page ${pg.page} is in no VMA of ${p.name}`);
      // A large folio's PTEs span an aligned block (a contpte block on arm64): page..page+3.
      if (pg.nr === 4 && pg.page % 4 !== 0) throw new LevelError(`${file}: machine.processes[${i}].pages[${j}].page: a 4-page folio (nr: 4) starts at a multiple of 4; page ${pg.page} does not (try ${pg.page - (pg.page % 4)})`);
      if (pg.nr === 4 && !p.vmas.some((v) => pg.page >= v.start && pg.page + 3 < v.start + v.pages)) throw new LevelError(`${file}: machine.processes[${i}].pages[${j}]: the 4-page folio at ${pg.page}..${pg.page + 3} does not fit in one VMA of ${p.name}`);
      if (typeof pg.refs === "string" && !(pg.refs.slice(1) in lv.params)) throw new LevelError(`${file}: machine.processes[${i}].pages[${j}].refs: parameter ${pg.refs} is not declared under params`);
    }
  }));
  const cpuNames = lv.cpus.map((c) => c.name);
  const dupCpu = cpuNames.find((n, i) => cpuNames.indexOf(n) !== i);
  if (dupCpu) problems.push(`${file}: cpus: two CPUs are called ${dupCpu}`);
  const programs: RawItem[][] = lv.cpus.map((c, i) => {
    if (!procNames.includes(c.process)) problems.push(`${file}: cpus[${i}].process: no process called ${c.process} (expected one of: ${procNames.join(", ")})`);
    const prog: RawItem[] = [];
    c.runs.forEach((r, j) => collect(() => prog.push(parseItem(file, `cpus[${i}].runs[${j}]`, r, lv.params))));
    return prog;
  });
  flush();
  programs.forEach((prog, i) => collect(() => {
    prog.forEach((item, j) => {
      const ops = "choose" in item ? item.choose : [item];
      for (const o of ops) {
        if (o.op.kind === "exit") {
          const sharers = lv.cpus.filter((c) => c.process === lv.cpus[i].process).length;
          if (sharers > 1) {
            throw new LevelError(
              `${file}: cpus[${i}].runs[${j}]: exit tears down the whole mm, so its process may have only this CPU (${lv.cpus[i].process} has ${sharers}); exit_group, a multithreaded process exiting together, is not modelled: give the exiting process one CPU`,
            );
          }
          if (j !== prog.length - 1) throw new LevelError(`${file}: cpus[${i}].runs[${j}]: exit must be the last operation`);
        }
        if (o.op.kind === "counter_inc" && !lv.machine.globals) throw new LevelError(`${file}: cpus[${i}].runs[${j}]: counter_inc needs machine.globals.counter`);
        if (o.op.kind === "counter_inc" && o.op.lock !== false && !lv.machine.locks.length) throw new LevelError(`${file}: cpus[${i}].runs[${j}]: counter_inc with lock needs machine.locks`);
      }
    });
  }));
  flush();
  // Operations the simulator cannot run on memory the level does not give them (an internal error
  // during play otherwise): an mTHP fault and mremap's source need a VMA, mremap's target a free range.
  const vmasOf = (name: string) => startVmas(lv.machine, name);
  programs.forEach((prog, i) =>
    prog.forEach((item, j) => collect(() => {
      for (const o of "choose" in item ? item.choose : [item]) {
        const a = o.op as Record<string, unknown>;
        const vmas = vmasOf(lv.cpus[i].process);
        const covered = (pg: number) => vmas.some((v) => pg >= v.start && pg < v.start + v.pages);
        const at = `${file}: cpus[${i}].runs[${j}].${o.op.kind}`;
        if (o.op.kind === "mthp_fault" && typeof a.page === "number" && !covered(a.page)) throw new LevelError(`${at}.page: page ${a.page} is in no VMA of ${lv.cpus[i].process}`);
        if (o.op.kind === "mremap" && typeof a.page === "number" && typeof a.pages === "number" && typeof a.to === "number") {
          for (let k = 0; k < a.pages; k++) {
            if (!covered(a.page + k)) throw new LevelError(`${at}.page: page ${a.page + k} is in no VMA of ${lv.cpus[i].process}`);
            if (covered(a.to + k)) throw new LevelError(`${at}.to: page ${a.to + k} is already mapped (mremap needs a free destination)`);
          }
        }
      }
    })),
  );
  collect(() => {
    if (lv.device && !programs.flat().some((it) => ("choose" in it ? it.choose : [it]).some((o) => o.op.kind === "pin_user_pages" || o.op.kind === "pin_user_pages_fast"))) {
      throw new LevelError(`${file}: device.dma: no CPU ever pins a page for the device (pin_user_pages)`);
    }
  });
  collect(() => {
    if (lv.mode === "hunt" || lv.mode === "versus") {
      if (lv.knobs.length) throw new LevelError(`${file}: knobs: a ${lv.mode} level has no knobs`);
    }
    // A hunt that expects safe (no schedule fires the goal) has no triggering schedule to measure.
    if (lv.mode === "hunt" && lv.goal.expect === "safe") {
      for (const key of ["par", "preemptions"] as const) {
        if (lv[key] !== undefined) throw new LevelError(`${file}: ${key}: goal.expect is safe, so no schedule fires the goal and there is no ${key === "par" ? "shortest schedule" : "fewest preemptions"} to claim; leave ${key} out`);
      }
    }
    if (lv.mode === "defend") {
      for (const key of ["par", "preemptions"] as const) {
        if (lv[key] !== undefined) throw new LevelError(`${file}: ${key}: a defend level is not scored against a triggering schedule (verify never checks it); leave ${key} out`);
      }
    }
    if (lv.mode === "versus") {
      // Every CPU plays for a side, and both sides have someone to play them.
      lv.cpus.forEach((c, i) => {
        if (c.side === undefined) throw new LevelError(`${file}: cpus[${i}].side: a versus level gives every CPU a side (red or blue); ${c.name} has none`);
      });
      for (const side of ["red", "blue"] as const) {
        if (!lv.cpus.some((c) => c.side === side)) throw new LevelError(`${file}: cpus: a versus level needs at least one ${side} CPU (side: ${side})`);
      }
      if (lv.goal.expect === "safe") throw new LevelError(`${file}: goal.expect: a versus level's race must be reachable (red needs a way to win)`);
    }
    if (lv.mode === "defend" && lv.knobs.length === 0) throw new LevelError(`${file}: knobs: a defend level needs at least one knob (the fixes to choose from)`);
  });
  for (const [k, knob] of lv.knobs.entries()) {
    // Settings are named by knob id and option value: a repeated one would be verified once and played as the first.
    if (lv.knobs.findIndex((x) => x.id === knob.id) !== k) problems.push(`${file}: knobs[${k}].id: two knobs are called ${knob.id}`);
    for (const [j, opt] of knob.options.entries()) {
      if (knob.options.findIndex((o) => o.value === opt.value) !== j) problems.push(`${file}: knobs[${k}].options[${j}].value: two options of knob ${knob.id} are called ${opt.value} (only the first would ever be verified or played)`);
    }
    for (const [j, opt] of knob.options.entries()) collect(() => {
      for (const p of Object.keys(opt.set.params ?? {})) {
        if (!(p in lv.params)) throw new LevelError(`${file}: knobs[${k}].options[${j}].set.params: ${p} is not declared under params`);
      }
      for (const key of ["processes", "globals", "locks"] as const) {
        if (opt.set.machine?.[key] !== undefined) {
          throw new LevelError(
            `${file}: knobs[${k}].options[${j}].set.machine.${key}: a knob may set machine.shootdown, machine.frames or machine.table_entries, not the ${key === "processes" ? "processes, their VMAs or pages" : key}: those are the level's one memory layout. Vary them with a $param instead (an operation's argument, if: on an operation, or a page's refs), or write a second level`,
          );
        }
      }
    });
  }
  for (const [i, r] of lv.goal.expect_when.entries()) {
    for (const [k, v] of Object.entries(r.knobs)) collect(() => {
      const knob = lv.knobs.find((x) => x.id === k);
      if (!knob) throw new LevelError(`${file}: goal.expect_when[${i}].knobs: no knob called ${k}`);
      if (!knob.options.some((o) => o.value === v)) throw new LevelError(`${file}: goal.expect_when[${i}].knobs.${k}: knob ${k} has no value ${v}`);
    });
  }
  // A seed is a thread in shared/seeds, so it needs the message it comes from; a level whose
  // source is not among the seeds says seed: null and may still cite its source under thread.
  if (lv.seed !== null && lv.thread === null) problems.push(`${file}: thread: a level with a seed cites the message it comes from (subject, date, message_id)`);
  flush();
  const level: Level = { ...lv, file, programs };
  // What the model cannot say is refused here, by key and version, not during play.
  checkLevelEras(level);
  return level;
}

export function loadLevelFile(path: string): Level {
  const file = path.split("/").slice(-2).join("/");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new LevelError(`${file}: cannot read the file`);
  }
  const lv = parseLevel(file, text);
  const base = path.split("/").pop()!.replace(/\.ya?ml$/, "");
  if (base !== lv.id) throw new LevelError(`${file}: id: "${lv.id}" must match the file name "${base}"`);
  return lv;
}

/** The whole campaign, in the order levels/campaign.yaml gives. */
export function loadCampaign(dir = levelsDir()): Level[] {
  const indexPath = join(dir, "campaign.yaml");
  const index = parseYaml(readFileSync(indexPath, "utf8")) as unknown;
  if (typeof index !== "object" || index === null || !Array.isArray((index as { levels?: unknown }).levels)) {
    throw new LevelError("levels/campaign.yaml: expected a key levels: with a list of level ids");
  }
  const ids = (index as { levels: unknown[] }).levels;
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "campaign.yaml");
  const byId = new Map(files.map((f) => [f.replace(/\.ya?ml$/, ""), f]));
  for (const f of byId.keys()) if (!ids.includes(f)) throw new LevelError(`levels/campaign.yaml: level ${f} (levels/${byId.get(f)}) is not in the campaign`);
  return ids.map((id, i) => {
    if (typeof id !== "string" || !byId.has(id)) throw new LevelError(`levels/campaign.yaml: levels[${i}]: no level file levels/${String(id)}.yaml`);
    if (ids.indexOf(id) !== i) throw new LevelError(`levels/campaign.yaml: levels[${i}]: ${id} is listed twice`);
    return loadLevelFile(resolve(dir, byId.get(id)!));
  });
}

/** Find a level by id (or by a file path). */
export function findLevel(campaign: Level[], idOrPath: string): Level | null {
  if (/\.ya?ml$/.test(idOrPath)) return loadLevelFile(resolve(idOrPath));
  return campaign.find((l) => l.id === idOrPath) ?? null;
}
