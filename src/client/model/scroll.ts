// Scrolling: every screen's content is reachable at 80×24. A scrollable region
// (the debrief, the intro, the machine panel, the log and hint history, help)
// shows a window of its lines, with a marker line where more lies above or
// below; PgUp/PgDn (↑↓ where they are free) move it, Home/End jump.
//
// The offset lives in the UI state under the region's key; a region records
// how far it can scroll when it is drawn (scrollLimits), so that a key press
// never moves the offset past the end (a press would then seem to do nothing).

export interface Scroll {
  /** The region (and the attempt or screen it belongs to): another key means offset 0. */
  key: string;
  at: number;
}

/** How far each region could scroll when it was last drawn (written by the screens, read by the keys). */
export const scrollLimits = new Map<string, number>();

export function scrollAt(s: Scroll | null, key: string): number {
  return s && s.key === key ? s.at : 0;
}

export interface Window<T> {
  lines: T[];
  /** The clamped offset. */
  at: number;
  max: number;
  above: number;
  below: number;
}

/**
 * The lines to show in `height` rows starting at `at`: when more lie above or
 * below, the first or last row says so (with the keys), so nothing is cut
 * without a word.
 */
export function scrollWindow<T>(lines: T[], height: number, at: number, marker: (text: string) => T, key?: string): Window<T> {
  const h = Math.max(3, height);
  if (lines.length <= h) {
    if (key) scrollLimits.set(key, 0);
    return { lines, at: 0, max: 0, above: 0, below: 0 };
  }
  // With both markers shown, h - 2 content rows; the offset counts content lines.
  const max = lines.length - (h - 1);
  if (key) scrollLimits.set(key, max);
  const a = Math.max(0, Math.min(max, at));
  const top = a > 0;
  const room = h - (top ? 1 : 0);
  const bottomNeeded = a + room < lines.length;
  const n = room - (bottomNeeded ? 1 : 0);
  const shown = lines.slice(a, a + n);
  const below = lines.length - a - n;
  const out: T[] = [];
  if (top) out.push(marker(`↑ ${a} more line${a === 1 ? "" : "s"} above (PgUp, Home)`));
  out.push(...shown);
  if (below > 0) out.push(marker(`↓ ${below} more line${below === 1 ? "" : "s"} below (PgDn, End)`));
  return { lines: out, at: a, max, above: a, below };
}

/** What a scrolling key does: a line, a page, or to the top or the end. */
export type ScrollMove = "up" | "down" | "pageUp" | "pageDown" | "top" | "end";

/** The offset after a scrolling move by `page` lines a page. */
export function scrollBy(move: ScrollMove, at: number, key: string, page = 10): number {
  const max = scrollLimits.get(key) ?? Number.MAX_SAFE_INTEGER;
  const clamp = (x: number) => Math.max(0, Math.min(max, x));
  switch (move) {
    case "pageDown":
      return clamp(at + page);
    case "pageUp":
      return clamp(Math.min(at, max) - page);
    case "top":
      return 0;
    case "end":
      return max === Number.MAX_SAFE_INTEGER ? at : max;
    case "down":
      return clamp(at + 1);
    case "up":
      return clamp(Math.min(at, max) - 1);
  }
}
