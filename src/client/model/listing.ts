// A CPU as the player reads it: the kernel path it is in (every line, exactly
// as the server listed it, with the arrow at the pc), the frames below it, its
// locals, and its state in words. Everything here comes from the protocol: the
// CpuView (state, frames, locals, what it enters next) and the listings the
// server sent for the attempt (GameView.listings).

import type { CpuView, Listing } from "../../protocol/server.js";
import type { PanelLine } from "./machine.js";

type Val = NonNullable<CpuView["locals"]>[string];

export interface ListingLine {
  /** Index of the step in its path. */
  n: number;
  text: string;
  /** The arrow: the line this CPU runs next. */
  at: boolean;
}

export interface CpuListing {
  cpu: number;
  /** The kernel path whose lines are shown (what a mark names), or null when none is. */
  path: string | null;
  /** "CPU0 (T0)" */
  tag: string;
  state: CpuView["state"];
  /** The state as a symbol plus words, e.g. "■ blocked: spinning on the PTL of table 0, held by CPU1 (A2)". */
  status: string;
  /** Callers of the current function, outermost first: "kernel_clone() at: copy_mm(...)". */
  stack: string[];
  /** "counter_inc() · teaching example (not kernel source) · any"; empty between operations. */
  header: string;
  lines: ListingLine[];
  /** The CPU has not entered this path yet: the arrow marks the line its next step runs. */
  upcoming: boolean;
  /** "tmp=0 va=1" */
  locals: string;
  /** The syscall menu, when the CPU is at one: each choice with the line it would start at. */
  choices: { label: string; first: string }[];
}

export const STATUS_SYMBOL: Record<CpuView["state"], string> = {
  ready: "▶",
  blocked: "■",
  menu: "◆",
  done: "✓",
  unborn: "○",
};

export function statusText(c: Pick<CpuView, "state" | "text">): string {
  const sym = STATUS_SYMBOL[c.state];
  switch (c.state) {
    case "ready":
      return `${sym} ready`;
    case "blocked":
      return `${sym} cannot run: ${c.text}`;
    case "menu":
      return `${sym} at a syscall menu: ${c.text.replace(/^chooses: /, "")}`;
    case "done":
      return `${sym} ${c.text}`;
    case "unborn":
      return `${sym} ${c.text}`;
  }
}

function valText(v: Val): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.join(",")}]`;
  return String(v);
}

export function localsText(l: Record<string, Val> | undefined): string {
  if (!l) return "";
  return Object.entries(l)
    .map(([k, v]) => `${k}=${valText(v)}`)
    .join("  ");
}

function pathLines(l: Listing, pc: number): ListingLine[] {
  return l.lines.map((text, n) => ({ n, text, at: n === pc }));
}

/** A function's name as a call: "contpte_convert (rewritten in place)" is contpte_convert() (rewritten in place). */
export function fnCall(fn: string): string {
  const m = /^(\S+)( \(.*\))$/.exec(fn);
  return m ? `${m[1]}()${m[2]}` : `${fn}()`;
}

function headerOf(fn: string, source: string, generation: string): string {
  return [fnCall(fn), source, generation === "any" ? "" : generation].filter(Boolean).join(" · ");
}

/**
 * A CPU's listing from its view and the attempt's listings (by path id). A path
 * whose listing has not arrived shows the line the server gave for it alone.
 */
export function cpuListing(view: CpuView, listings: Readonly<Record<string, Listing>>): CpuListing {
  const tag = `CPU${view.cpu} (${view.name})`;
  const base = { cpu: view.cpu, path: null as string | null, tag, state: view.state, status: statusText(view), choices: [] as CpuListing["choices"] };
  const top = view.frames[view.frames.length - 1];
  if (top) {
    const stack = view.frames.slice(0, -1).map((f) => `${fnCall(f.fn)} at: ${f.line}`);
    const l = listings[top.path];
    let lines: ListingLine[] = [{ n: top.pc, text: top.line, at: true }];
    if (l && l.lines.length > top.pc) {
      lines = pathLines(l, top.pc);
      // The frame's line is the current one; the listing yields to it.
      lines[top.pc] = { n: top.pc, text: top.line, at: true };
    }
    const generation = top.generation ?? l?.generation ?? "";
    return { ...base, path: top.path, stack, header: headerOf(top.fn, top.source, generation), lines, upcoming: false, locals: localsText(view.locals) };
  }
  // Between operations: what the next step would enter.
  if (view.choiceEntries && view.choices) {
    const choices = view.choices.map((label, i) => {
      const e = view.choiceEntries![i];
      const first = e ? listings[e.path]?.lines[0] : undefined;
      return { label, first: e && first !== undefined ? `${fnCall(e.fn)}: ${first}` : "" };
    });
    return { ...base, stack: [], header: "", lines: [], upcoming: true, locals: "", choices };
  }
  if (view.upcoming && (view.state === "ready" || view.state === "unborn")) {
    const u = view.upcoming;
    const l = listings[u.path];
    if (l) return { ...base, path: u.path, stack: [], header: headerOf(u.fn, u.source, u.generation), lines: pathLines(l, 0), upcoming: true, locals: "" };
  }
  const choices = (view.choices ?? []).map((label) => ({ label, first: "" }));
  return { ...base, stack: [], header: "", lines: [], upcoming: false, locals: "", choices };
}

/** The listing cut to at most `max` lines, keeping the arrow in view with some context above it. */
export function windowLines(lines: ListingLine[], max: number): { lines: ListingLine[]; above: number; below: number } {
  if (lines.length <= max) return { lines, above: 0, below: 0 };
  const at = Math.max(0, lines.findIndex((l) => l.at));
  const start = Math.min(Math.max(0, at - Math.floor(max / 3)), lines.length - max);
  return { lines: lines.slice(start, start + max), above: start, below: lines.length - start - max };
}

/** One line for a CPU shown compactly: its state and the line it runs next. */
export function compactLine(l: CpuListing): string {
  const at = l.lines.find((x) => x.at);
  const next = at ? `${l.upcoming ? "next: " : "→ "}${at.text}` : l.choices.length ? `menu: ${l.choices.map((c) => c.label).join(" | ")}` : "";
  if (l.state === "ready") return next ? `▶ ${next}` : l.status;
  if (l.state === "menu") return `◆ ${next}`;
  return `${l.status}${next && l.state === "blocked" ? `  ${next}` : ""}`;
}

export interface CpuPanelInput {
  listings: CpuListing[];
  selected: number | "dma";
  /** Per CPU: who drives it ("you", a name, "free", "adversary bot"). */
  who: string[];
  dma: string | null;
  /** The selected CPU's marked lines in the path shown, by line: the symbol and who set it ("⊘ stop here: ada"). */
  marks?: ReadonlyMap<number, { symbol: string; label: string }>;
  /** Marking: the line under the cursor (drawn highlighted, kept in view). */
  cursor?: number | null;
}

/**
 * The code side of the game screen: the selected CPU in full (stack, listing
 * with the arrow, locals, state), then every other CPU in one or two lines.
 */
export function cpuPanel(p: CpuPanelInput, width: number, height: number, wrap: (s: string, w: number) => string[]): PanelLine[] {
  const others: PanelLine[] = [];
  for (const l of p.listings) {
    if (l.cpu === p.selected) continue;
    others.push({ text: `${l.tag} [${p.who[l.cpu] ?? ""}] ${compactLine(l)}` });
  }
  if (p.dma !== null && p.selected !== "dma") others.push({ text: `DMA ${p.dma}` });

  const top: PanelLine[] = [];
  if (p.selected === "dma") {
    top.push({ text: "▸ the DMA device", head: true });
    for (const w of wrap(p.dma ?? "no device", width)) top.push({ text: w });
  } else {
    const l = p.listings[p.selected];
    if (l) {
      top.push({ text: `▸ ${l.tag} [${p.who[l.cpu] ?? ""}]${l.header ? ` · ${l.header}` : ""}`, head: true });
      for (const w of wrap(l.status, width)) top.push({ text: w });
      for (const s of l.stack) top.push({ text: `  called from ${s}` });
      const room = Math.max(3, height - top.length - (l.locals ? 1 : 0) - Math.min(others.length + 1, Math.floor(height / 3)));
      if (l.choices.length) {
        top.push({ text: "  syscall menu (Enter, Space or m to choose):" });
        l.choices.forEach((c, i) => top.push({ text: `   ${i + 1}. ${c.label}${c.first ? `  → ${c.first}` : ""}` }));
      } else if (l.lines.length) {
        // Long lines wrap (the pseudo-C is shown whole, never cut); the window is counted in rows.
        const cursor = p.cursor ?? null;
        const rows: ListingLine[] = l.lines.flatMap((x) => {
          const mark = p.marks?.get(x.n);
          // A mark's symbol takes the gutter's first column; who set it follows the line.
          const gutter = (g: string) => (mark ? mark.symbol + g.slice(1) : cursor === x.n ? "»" + g.slice(1) : g);
          const text = mark ? `${x.text}   ${mark.label}` : x.text;
          return wrap(text, Math.max(20, width - 7)).map((t, i) => ({ n: x.n, at: cursor === null ? x.at : cursor === x.n, text: `${i === 0 ? gutter(x.at ? (l.upcoming ? " next→ " : "    → ") : "      ") : "        "}${t}` }));
        });
        const win = windowLines(rows, room - 2);
        const count = (k: number, where: string) => top.push({ text: `      … ${k} more row${k === 1 ? "" : "s"} ${where}` });
        if (win.above) count(win.above, "above");
        for (const x of win.lines) top.push({ text: x.text, at: x.at });
        if (win.below) count(win.below, "below");
      } else top.push({ text: "  (no code: nothing left to run)" });
      if (l.locals) for (const w of wrap(`  locals: ${l.locals}`, width)) top.push({ text: w });
    }
  }
  const rest = height - top.length;
  const tail: PanelLine[] = others.length && rest > 1 ? [{ text: "Other CPUs", head: true }, ...others.slice(0, rest - 1)] : [];
  return [...top, ...tail].slice(0, height);
}
