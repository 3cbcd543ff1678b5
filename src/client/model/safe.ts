// The client's guard: every string a server sends passes through safeText
// before the client keeps it, so no text from another player (a name, a chat
// line, a team) can drive this terminal, whatever the server let through. Our
// server already refuses or normalises such text (src/protocol/text.ts); this
// is the second wall, for any server. Escape sequences (ESC ]0;... BEL sets
// the window title, ESC [2J clears the screen) start with a control character,
// so showing every control as its visible picture disarms them all; bidi
// controls and zero-width characters, which make one text read as another, are
// shown as U+FFFD. Line breaks stay: intros and debriefs are written in lines.

const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

/** The text with every control character shown as its picture (␛ for ESC) and every invisible format character as �. */
export function safeText(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_ALL, (c) => {
    const n = c.charCodeAt(0);
    if (n < 0x20) return String.fromCharCode(0x2400 + n);
    if (n === 0x7f) return "\u2421";
    return "\ufffd";
  });
}

/** A value with safeText applied to every string in it (keys included); unchanged parts are shared, not copied. */
export function safeDeep<T>(v: T): T {
  if (typeof v === "string") return safeText(v) as T;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    v.forEach((x, i) => {
      const y = safeDeep(x);
      if (y !== x) (out ??= [...v])[i] = y;
    });
    return (out ?? v) as T;
  }
  if (v !== null && typeof v === "object") {
    let out: Record<string, unknown> | null = null;
    for (const [k, x] of Object.entries(v)) {
      const y = safeDeep(x);
      const key = safeText(k);
      if (y !== x || key !== k) {
        out ??= { ...(v as Record<string, unknown>) };
        if (key !== k) delete out[k];
        out[key] = y;
      }
    }
    return (out ?? v) as T;
  }
  return v;
}
