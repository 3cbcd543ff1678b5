// The debrief's timeline: one lane per CPU (and one for the DMA device), one
// column per step, the breaking step marked. Pure: a trace in, rows of text out.
// `faultline run` prints the same rows (src/cli/run.ts), page by page.

import type { TraceEntry } from "../../protocol/server.js";

export const CELL = { ran: "●", blocked: "~", idle: "·", broke: "✖" } as const;
export const TIMELINE_LEGEND = `${CELL.ran} ran a line  ${CELL.blocked} could not run (spun or waited)  ${CELL.idle} not stepped  ${CELL.broke} the step that broke it`;

export interface TimelineRows {
  /** Step numbers above the columns. */
  header: string;
  lanes: { label: string; cells: string }[];
  /** ▲ under the breaking step, ^ under the replay cursor; null when neither is in view. */
  marker: string | null;
  /** Steps hidden to the left (the window follows the cursor or the end). */
  hiddenBefore: number;
  hiddenAfter: number;
}

const COL = 2;

/** What the timeline reads of a step: a trace entry, or a step `faultline run` replayed. */
export type TimelineStep = Pick<TraceEntry, "step" | "action" | "blocked">;

/** A CPU's lane label: its number and name, as the debrief and `faultline run` write it. */
export const laneLabel = (cpu: number, name: string): string => `CPU${cpu} ${name}`;

function laneOf(e: TimelineStep): number | "dma" {
  return "dma" in e.action ? "dma" : e.action.cpu;
}

/** The label column's width and how many steps fit beside it in `width` columns. */
function geometry(lanes: string[], dma: boolean, width: number): { labels: string[]; labelW: number; fit: number } {
  const labels = [...lanes, ...(dma ? ["DMA"] : [])];
  const labelW = Math.max(4, ...labels.map((l) => l.length)) + 1;
  return { labels, labelW, fit: Math.max(1, Math.floor((width - labelW) / COL)) };
}

/**
 * Rows for `trace` in `width` columns. `lanes` names each CPU lane in order;
 * `dma` adds a lane for the device; `breakStep` (1-based) is marked; `cursor`
 * (1-based, replay) is kept in view and marked. `from` (0-based) shows the
 * steps from there instead of following the cursor or the end.
 */
export function timelineRows(
  trace: readonly TimelineStep[],
  lanes: string[],
  dma: boolean,
  breakStep: number | null,
  width: number,
  cursor: number | null = null,
  from: number | null = null,
): TimelineRows {
  const { labels, labelW, fit } = geometry(lanes, dma, width);
  const n = trace.length;
  const focus = cursor ?? n;
  const start = from !== null ? Math.max(0, Math.min(from, n - 1)) : n <= fit ? 0 : Math.max(0, Math.min(n - fit, focus - fit + Math.min(3, n - focus)));
  const shown = trace.slice(start, start + fit);

  let header = "";
  for (const e of shown) {
    const col = header.length;
    const want = (e.step - start - 1) * COL;
    if (col > want) continue;
    const num = e.step === 1 || e.step % 5 === 0 || e.step === breakStep ? String(e.step) : "";
    header += " ".repeat(want - col) + num;
  }

  const rows = labels.map((label, li) => {
    const lane = li < lanes.length ? li : "dma";
    const cells = shown
      .map((e) => {
        if (laneOf(e) !== lane) return CELL.idle;
        if (e.step === breakStep) return CELL.broke;
        return e.blocked ? CELL.blocked : CELL.ran;
      })
      .join(" ");
    return { label: label.padEnd(labelW), cells };
  });

  let marker: string | null = null;
  const marks: [number, string][] = [];
  for (const [step, sym] of [
    [cursor, "^"],
    [breakStep, "▲"],
  ] as const) {
    if (step !== null && step > start && step <= start + shown.length) marks.push([(step - start - 1) * COL, sym]);
  }
  if (marks.length) {
    const chars: string[] = [];
    for (const [at, sym] of marks) {
      while (chars.length <= at) chars.push(" ");
      chars[at] = sym;
    }
    marker = " ".repeat(labelW) + chars.join("").trimEnd();
  }
  return { header: " ".repeat(labelW) + header, lanes: rows, marker, hiddenBefore: start, hiddenAfter: n - start - shown.length };
}

/** The rows as lines of text: the step numbers, one line per lane, and the marker line when there is one. */
export function timelineLines(tl: TimelineRows): string[] {
  return [tl.header, ...tl.lanes.map((l) => l.label + l.cells), ...(tl.marker ? [tl.marker] : [])];
}

/**
 * The whole trace as consecutive pages of rows, each fitting `width` columns (a
 * terminal has no scrolling window). Pages are cut from the end, so the last is
 * the window the debrief shows; the first may be narrower. `from`/`to`: the
 * 1-based steps a page shows.
 */
export function timelinePages(trace: readonly TimelineStep[], lanes: string[], dma: boolean, breakStep: number | null, width: number): { from: number; to: number; rows: TimelineRows }[] {
  const { fit } = geometry(lanes, dma, width);
  const pages: { from: number; to: number; rows: TimelineRows }[] = [];
  for (let end = trace.length; end > 0 || pages.length === 0; end -= fit) {
    const start = Math.max(0, end - fit);
    pages.unshift({ from: start + 1, to: end, rows: timelineRows(trace.slice(0, end), lanes, dma, breakStep, width, null, start) });
    if (start === 0) break;
  }
  return pages;
}
