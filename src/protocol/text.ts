// Text a player types for other players (chat), normalised where it enters the
// server: the zod schema of `chat` runs it, so nothing else ever sees the raw
// string. A terminal obeys control characters and escape sequences (ESC ]0;
// sets the window title, ESC [2J clears the screen), and bidi overrides and
// zero-width characters make one text look like another; none of them may
// reach another player's terminal. Controls become their visible Unicode
// pictures (the reader sees that someone sent one), format characters go.
// Names are refused instead (client.ts `playerName`); the client has its own
// guard for whatever a server sends (src/client/model/safe.ts).

/** The longest chat message, in characters after normalisation. */
export const CHAT_MAX = 280;

// C0 controls and DEL: shown as the symbol for each (U+2400-U+241F, U+2421).
const C0 = /[\u0000-\u001f\u007f]/g;
// C1 controls (CSI is U+009B: ESC [ in one character).
const C1 = /[\u0080-\u009f]/g;
// Format characters (bidi embeddings, overrides and isolates, zero-width space, joiners, BOM,
// invisible operators, tags) and the Unicode line and paragraph separators.
const FORMAT = /[\p{Cf}\u2028\u2029]/gu;

/**
 * Chat text as the server keeps and sends it: NFC, tabs and line breaks as
 * spaces, other controls as visible pictures, format characters removed,
 * trimmed. May return "" (the schema then refuses the message).
 */
export function normaliseText(raw: string): string {
  return raw
    .normalize("NFC")
    .replace(/[\t\n\r\u000b\u000c]/g, " ")
    .replace(C0, (c) => String.fromCharCode(c === "\u007f" ? 0x2421 : 0x2400 + c.charCodeAt(0)))
    .replace(C1, "\ufffd")
    .replace(FORMAT, "")
    .trim();
}
