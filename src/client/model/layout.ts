// How the screens share the terminal: a pure function of its size. Every
// screen draws at most rows - 1 lines, because Ink flickers (and may clear the
// scrollback) once its output reaches the terminal's height.

export const MIN_COLS = 80;
export const MIN_ROWS = 24;

export function tooSmall(cols: number, rows: number): string | null {
  if (cols >= MIN_COLS && rows >= MIN_ROWS) return null;
  return `The terminal is ${cols}×${rows}; Faultline needs at least ${MIN_COLS}×${MIN_ROWS}. Enlarge the window (or make the font smaller), and the game comes back as it was. q quits.`;
}

export interface GameLayout {
  /** Code on the left, the machine on the right; otherwise one column. */
  twoCol: boolean;
  leftW: number;
  rightW: number;
  /** Lines for the code and machine area. */
  bodyH: number;
  /** Lines of the event log. */
  logH: number;
}

/** Top bar (3), status line (1), key bar (1), log heading (1), and one spare line at the bottom. */
const CHROME = 3 + 1 + 1 + 1 + 1;

export function gameLayout(cols: number, rows: number): GameLayout {
  const twoCol = cols >= 100;
  const leftW = twoCol ? Math.floor(cols * 0.56) : cols;
  const rightW = twoCol ? cols - leftW - 2 : cols;
  const logH = Math.max(2, Math.min(8, Math.floor((rows - CHROME) / 5)));
  const bodyH = Math.max(4, rows - CHROME - logH);
  return { twoCol, leftW, rightW, bodyH, logH };
}

/**
 * Wrap a line to `width` columns, breaking after the separators the view
 * models use (", ", "; ", " · "), else at a space, else anywhere; continuation
 * lines are indented.
 */
export function wrapLine(text: string, width: number, indent = "  "): string[] {
  if (width < 8 || [...text].length <= width) return [text];
  const out: string[] = [];
  let rest = text;
  let first = true;
  while (rest.length) {
    const w = first ? width : width - indent.length;
    if ([...rest].length <= w) {
      out.push((first ? "" : indent) + rest);
      break;
    }
    const chars = [...rest];
    const head = chars.slice(0, w).join("");
    // Prefer a break after a separator (", ", "; ", " · "), which stays on the line; its
    // trailing space may lie just past the edge, since it is dropped at the break.
    const reach = chars.slice(0, w + 1).join("");
    let keep = -1;
    let cut = -1;
    for (const sep of [", ", "; ", " · "]) {
      const at = reach.lastIndexOf(sep);
      const k = at + sep.length - 1;
      if (at >= 0 && k <= w && k > keep) {
        keep = k;
        cut = at + sep.length;
      }
    }
    if (keep < w / 3) {
      // No separator far enough along: break at a space, or inside a long word.
      const sp = head.lastIndexOf(" ");
      keep = sp >= w / 3 ? sp : head.length;
      cut = sp >= w / 3 ? sp + 1 : head.length;
    }
    out.push((first ? "" : indent) + rest.slice(0, keep).trimEnd());
    rest = rest.slice(cut);
    first = false;
  }
  return out;
}

// East Asian wide and emoji ranges: two columns each (player names may hold them).
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
const charWidth = (c: string): number => (WIDE.test(c) ? 2 : 1);

/** Columns a line takes (no escape sequences in the view models' lines). */
export function textWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let w = 0;
  for (const c of text) w += charWidth(c);
  return w;
}

/** The line cut to `width` columns with an ellipsis, or as it is when it fits. */
export function fitWidth(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let w = 0;
  let out = "";
  for (const c of text) {
    const cw = charWidth(c);
    if (w + cw > width - 1) break;
    out += c;
    w += cw;
  }
  return out + "…";
}

/**
 * A shell command in lines of at most `width` columns, to copy from the
 * screen and paste whole: each break is at a space outside single quotes and
 * ends its line with " \" (the shell joins the lines, inside double quotes too).
 */
export function shellLines(cmd: string, width: number, indent = "  "): string[] {
  if (textWidth(cmd) <= width) return [cmd];
  const words: string[] = [];
  let word = "";
  let quoted = false;
  for (const c of cmd) {
    if (c === "'") quoted = !quoted;
    if (c === " " && !quoted) {
      words.push(word);
      word = "";
    } else word += c;
  }
  words.push(word);
  const out: string[] = [];
  let line = "";
  for (const w of words) {
    const joined = line ? `${line} ${w}` : w;
    // Leave room for the " \" that continues the line.
    if (line.trim() && textWidth(joined) + 2 > width) {
      out.push(`${line} \\`);
      line = indent + w;
    } else line = joined;
  }
  out.push(line);
  return out;
}
