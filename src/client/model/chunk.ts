// Ink hands a chunk of plain characters read at once (a paste, or keys typed
// faster than it reads) to useInput as one input string. The game's keys are
// single characters, so such a chunk is split back into the keys it holds:
// a pasted room code, name or workshop title arrives whole, with its Enter.

import type { KeyPress } from "./keys.js";

/** The keypresses a chunk holds: itself when it is one key or an escape sequence, else one per character. */
export function keysOf(k: KeyPress): KeyPress[] {
  const chars = [...k.input];
  if (chars.length <= 1 || k.ctrl || k.escape || k.input.includes("\x1b")) return [k];
  const out: KeyPress[] = [];
  for (const ch of chars) {
    if (ch === "\r" || ch === "\n") out.push({ input: "", return: true });
    else if (ch === "\t") out.push({ input: "", tab: true });
    else if (ch === "\x7f" || ch === "\b") out.push({ input: "", backspace: true });
    // Other control characters in a paste are not keys anyone typed.
    else if (!/\p{Cc}/u.test(ch)) out.push({ input: ch });
  }
  return out;
}
