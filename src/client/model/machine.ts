// The machine panel's layout: the sections of the server's machine view
// (GameView.view) as lines of a given width. The content is the server's; this
// only orders and wraps it.

import type { MachineView } from "../../protocol/server.js";

export type { MachineView };

/** Entries per drawn block (a PTE table with more entries is drawn as several blocks). */
export const BLOCK = 16;

/** What the strip's characters mean, beside the first ruler. */
export const PTE_LEGEND = "· none  r RO  w RW  s swap";

/** The index ruler drawn above every block: 0123456789abcdef. */
export const RULER = Array.from({ length: BLOCK }, (_, i) => (i % BLOCK).toString(16)).join("");

/** An empty machine view (a server that sends none). */
export const NO_VIEW: MachineView = { vars: [], mms: [], tables: [], folios: [], pins: [], locks: [], cpus: [], dma: null };

/** A line of a panel: a section heading (drawn bold) or its body. */
export interface PanelLine {
  text: string;
  head?: boolean;
  /** The line a CPU runs next (drawn in inverse as well as marked with the arrow). */
  at?: boolean;
}

// The panel's lines use ASCII separators (", ", "; ", "->"): Ink measures every
// line's width each frame, and printable ASCII takes string-width's fast path.

/**
 * The machine as panel lines `width` wide: sections in the order a reader
 * needs them (shared values, locks, page tables, folios, pins, CPUs, DMA).
 * Empty sections are left out.
 */
export function machinePanel(v: MachineView, width: number, wrap: (s: string, w: number) => string[]): PanelLine[] {
  const out: PanelLine[] = [];
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push({ text: title, head: true });
    for (const l of lines) for (const w of wrap(l, width)) out.push({ text: w });
  };
  section("Globals", v.vars.length ? [v.vars.join(", ")] : []);
  section("Locks", v.locks);
  const tables: string[] = [];
  for (const t of v.tables) {
    tables.push(t.title);
    for (const b of t.blocks) {
      tables.push(`  ${RULER}  ${b.base ? `entries ${b.base}-${b.base + BLOCK - 1}` : PTE_LEGEND}`);
      tables.push(`  ${b.strip}`);
      if (b.cont) tables.push(`  ${b.cont.padEnd(BLOCK)}  = CONT`);
      if (b.entries.length) tables.push(`  ${b.entries.join("; ")}`);
    }
  }
  section("Page tables", tables);
  section("Folios", v.folios);
  section("Pins", v.pins);
  section("Processes", v.mms.filter((l) => !l.includes("VMAs none")));
  section("CPUs", v.cpus);
  if (v.dma) section("Device", [v.dma]);
  return out;
}
