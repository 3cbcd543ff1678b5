// `faultline lint`: load, validate and verify a level file, and report every problem with the
// key it is about and its line in the file. The loader and verify do the checking; this module
// finds each problem's key in the YAML (parseDocument + LineCounter) and adds a few checks of
// its own (warnings) that an author wants before a level goes into a room.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { knobSettings, type KnobSetting } from "./compile.js";
import { LevelError, parseLevel, startVmas, type Level } from "./load.js";
import { verifySetting, type VerifyRow } from "./verify.js";

export interface LintProblem {
  /** error: the level cannot be used as it is; warning: it works, but an author should look. */
  severity: "error" | "warning";
  /** The key path, as the loader names it (e.g. "cpus[0].runs[1].store.page"), or null for the whole file. */
  path: string | null;
  /** 1-based line and column of the key in the file, or null when the file has no such place. */
  line: number | null;
  column: number | null;
  message: string;
  /** The knob setting a verify problem is about (defend levels), else absent. */
  knobs?: KnobSetting;
}

export interface LintReport {
  file: string;
  /** The level's id when the file loads, else null. */
  level: string | null;
  /** No errors (warnings allowed). */
  ok: boolean;
  problems: LintProblem[];
  /** One verify row per knob setting (empty when the file does not load or verify is off). */
  settings: VerifyRow[];
}

const PATH_RE = /^((?:\(top level\))|(?:[A-Za-z_][\w-]*|\[\d+\])(?:\.[A-Za-z_$][\w-]*|\[\d+\])*)(?: \([^)]*\))?: /;

/** "cpus[0].runs[1].store" -> ["cpus", 0, "runs", 1, "store"]. */
export function pathSegments(path: string): (string | number)[] {
  if (path === "(top level)") return [];
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Split one loader message ("FILE: PATH: text") into its key path and text. */
export function splitMessage(file: string, line: string): { path: string | null; message: string } {
  const rest = line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line;
  const m = PATH_RE.exec(rest);
  if (!m) return { path: null, message: rest };
  const note = m[0].slice(m[1].length, -2).trim();
  return { path: m[1], message: `${note ? `${note}: ` : ""}${rest.slice(m[0].length)}` };
}

/** The line and column of a key path in the document: the deepest part of it the file has. */
export function locate(doc: Document, lc: LineCounter, path: string | null, extraKey?: string): { line: number; column: number } | null {
  if (path === null) return null;
  const segs = pathSegments(path);
  if (extraKey !== undefined) segs.push(extraKey);
  for (let k = segs.length; k >= 0; k--) {
    const at = segs.slice(0, k);
    let pos: number | undefined;
    if (k > 0) {
      // Point at the key of a map entry (its line), else at the item.
      const parent = k === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
      const last = at[k - 1];
      if (parent && typeof last === "string" && "items" in (parent as object)) {
        const pair = (parent as { items: unknown[] }).items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last);
        if (pair && isPair(pair) && isNode(pair.key) && pair.key.range) pos = pair.key.range[0];
      }
      if (pos === undefined) {
        const node = doc.getIn(at, true);
        if (isNode(node) && node.range) pos = node.range[0];
      }
    } else if (isNode(doc.contents) && doc.contents.range) pos = doc.contents.range[0];
    if (pos !== undefined) {
      const p = lc.linePos(pos);
      return { line: p.line, column: p.col };
    }
  }
  return null;
}

/** Where a verify problem points in the file. */
function verifyPath(level: Level, problem: string, knobs: KnobSetting): string | null {
  if (problem.startsWith("the fewest preemptions")) return "preemptions";
  if (problem.startsWith("the shortest schedule")) return "par";
  if (problem.startsWith("verdict")) {
    if (level.mode !== "defend") return level.goal.expect !== undefined ? "goal.expect" : "goal";
    const rule = level.goal.expect_when.findIndex((r) => Object.entries(r.knobs).every(([k, v]) => knobs[k] === v));
    if (rule >= 0) return `goal.expect_when[${rule}].expect`;
    const k = level.knobs.findIndex((x) => x.options.some((o) => o.value === knobs[x.id] && o.expect === "safe"));
    const i = Math.max(0, k);
    const j = level.knobs[i]?.options.findIndex((o) => o.value === knobs[level.knobs[i].id]) ?? -1;
    return j >= 0 ? `knobs[${i}].options[${j}].expect` : "knobs";
  }
  return null;
}

export interface LintOptions {
  /** Explore every knob setting (default true); off: load and validate only. */
  verify?: boolean;
  /** Campaign level ids: a custom level with one of them would be skipped by serve --levels. */
  campaignIds?: string[];
  /** Called with the states explored so far (progress on a terminal). */
  onProgress?: (label: string, states: number) => void;
}

export function lintText(file: string, text: string, opts: LintOptions = {}): LintReport {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const problems: LintProblem[] = [];
  const add = (severity: LintProblem["severity"], path: string | null, message: string, extra: Partial<LintProblem> = {}, extraKey?: string) => {
    const at = locate(doc, lc, path, extraKey);
    problems.push({ severity, path, line: at?.line ?? null, column: at?.column ?? null, message, ...extra });
  };
  if (doc.errors.length) {
    // The first YAML error is the one to fix: the parser's later errors mostly follow from it.
    const e = doc.errors[0];
    const p = lc.linePos(e.pos[0]);
    const more = doc.errors.length - 1;
    problems.push({ severity: "error", path: null, line: p?.line ?? null, column: p?.col ?? null, message: `YAML error: ${e.message.split("\n")[0]}${more ? ` (and ${more} more that may follow from it: fix this one first)` : ""}` });
    return { file, level: null, ok: false, problems, settings: [] };
  }
  for (const w of doc.warnings) {
    const p = lc.linePos(w.pos[0]);
    const tag = /^Unresolved tag: (!\S*)/.exec(w.message)?.[1];
    const message = tag ? `${tag} is a YAML tag, not a value; to negate a parameter in if:, quote it: if: "${tag}"` : w.message.split("\n")[0];
    problems.push({ severity: "error", path: null, line: p?.line ?? null, column: p?.col ?? null, message: `YAML error: ${message}` });
  }
  if (problems.length) return { file, level: null, ok: false, problems, settings: [] };
  let level: Level;
  try {
    level = parseLevel(file, text);
  } catch (e) {
    if (!(e instanceof LevelError)) throw e;
    for (const line of e.message.split("\n")) {
      const { path, message } = splitMessage(file, line);
      const unknown = /^unknown key "([^"]+)"/.exec(message)?.[1];
      add("error", path, message, {}, unknown);
    }
    return { file, level: null, ok: false, problems, settings: [] };
  }
  for (const w of fileWarnings(level)) add("warning", w.path, w.message);
  const base = basename(file).replace(/\.ya?ml$/, "");
  if (base !== level.id) add("error", "id", `"${level.id}" must match the file name "${base}" (the server finds levels by id)`);
  if (opts.campaignIds?.includes(level.id)) add("error", "id", `${level.id} is a campaign level's id; faultline serve --levels skips a custom level that would replace it`);
  const settings: VerifyRow[] = [];
  if (opts.verify !== false) {
    for (const s of knobSettings(level)) {
      const label = Object.entries(s).map(([k, v]) => `${k}=${v}`).join(" ");
      const row = verifySetting(level, s, opts.onProgress ? (n) => opts.onProgress!(label, n) : undefined);
      settings.push(row);
      const knobs = level.knobs.length ? { knobs: s } : {};
      for (const p of row.problems) {
        if (row.verdict === "error") {
          for (const line of p.split("\n")) {
            const { path, message } = splitMessage(file, line);
            // The simulator's own refusal during play names the field it needs, not a file path.
            add("error", path ?? (/\(machine\.frames\)/.test(message) ? "machine.frames" : null), message, knobs);
          }
        } else add("error", verifyPath(level, p, s), p, knobs);
      }
    }
    // What verify found that the file could state (a hunt's par is what players are scored against).
    const hunt = level.mode === "hunt" || level.mode === "versus";
    const found = settings.find((r) => r.preemptions !== null);
    if (hunt && level.goal.expect !== "safe" && level.preemptions === undefined && found) {
      add("warning", null, `preemptions: not stated; the fewest preemptions of a triggering schedule is ${found.preemptions} (add preemptions: ${found.preemptions}: players are scored against it)`);
    }
  }
  const ok = !problems.some((p) => p.severity === "error");
  return { file, level: level.id, ok, problems, settings };
}

export function lintFile(path: string, opts: LintOptions = {}): LintReport {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { file: path, level: null, ok: false, problems: [{ severity: "error", path: null, line: null, column: null, message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? "error"})` }], settings: [] };
  }
  return lintText(path, text, opts);
}

/** One problem as a compiler prints it: FILE:LINE:COL: severity: PATH: message. */
export function formatProblem(file: string, p: LintProblem): string {
  const where = p.line !== null ? `${file}:${p.line}:${p.column}` : file;
  const knobs = p.knobs ? ` [${Object.entries(p.knobs).map(([k, v]) => `${k}=${v}`).join(" ")}]` : "";
  return `${where}: ${p.severity}: ${p.path !== null ? `${p.path}: ` : ""}${p.message}${knobs}`;
}

/** Operations whose `page` is an access: off every VMA, the CPU dies of SIGSEGV. */
const ACCESSES = new Set(["load", "store", "pin_user_pages", "get_user_pages", "pin_user_pages_fast", "vmsplice", "uffd_unprotect", "try_to_unmap"]);

/**
 * What is allowed but rarely meant: an access to a page outside every VMA (unless an mremap moves
 * memory there), and a knob that swaps the kernel generation, which drops the file's own flags.
 */
export function fileWarnings(level: Level): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const ops = (i: number) => level.programs[i].flatMap((item, j) => ("choose" in item ? item.choose.map((o, c) => ({ o, at: `cpus[${i}].runs[${j}].choose[${c}]` })) : [{ o: item, at: `cpus[${i}].runs[${j}]` }]));
  const moved = new Set<number>();
  level.cpus.forEach((_, i) => {
    for (const { o } of ops(i)) {
      const a = o.op as Record<string, unknown>;
      if (o.op.kind === "mremap" && typeof a.to === "number" && typeof a.pages === "number") for (let k = 0; k < a.pages; k++) moved.add(a.to + k);
    }
  });
  level.cpus.forEach((cpu, i) => {
    const vmas = startVmas(level.machine, cpu.process);
    for (const { o, at } of ops(i)) {
      const page = (o.op as Record<string, unknown>).page;
      if (!ACCESSES.has(o.op.kind) || typeof page !== "number" || moved.has(page)) continue;
      if (!vmas.some((v) => page >= v.start && page < v.start + v.pages)) {
        out.push({ path: `${at}.${o.op.kind}.page`, message: `page ${page} is in no VMA of ${cpu.process}: ${cpu.name} dies of SIGSEGV here (if that is the point, say so in the intro)` });
      }
    }
  });
  const fileFlags = Object.keys(level.kernel).filter((k) => k !== "generation" && (level.kernel as Record<string, unknown>)[k] !== undefined);
  level.knobs.forEach((knob, k) =>
    knob.options.forEach((opt, j) => {
      const gen = opt.set.kernel?.generation;
      if (gen === undefined || fileFlags.length === 0) return;
      const lost = fileFlags.filter((f) => !(f in (opt.set.kernel ?? {})));
      if (lost.length) out.push({ path: `knobs[${k}].options[${j}].set.kernel.generation`, message: `this setting runs the ${gen} kernel preset, so the file's kernel flags ${lost.join(", ")} do not apply under it; repeat the ones it needs in set.kernel` });
    }),
  );
  return out;
}

