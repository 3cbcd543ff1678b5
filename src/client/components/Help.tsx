// The `?` help screen: every key (from the key table) and every symbol the screens use.

import { Box, Text } from "ink";
import { helpLines } from "../model/help.js";
import type { Scope } from "../model/keys.js";
import { scrollAt, scrollWindow, type Scroll } from "../model/scroll.js";

/**
 * `scroll`: the UI's scroll state (↑↓ PgUp/PgDn scroll the help when it is taller than the screen);
 * `width`: the columns to wrap to; `first`: the scopes of the screen it covers, whose keys lead.
 */
export function Help({ height, width = 80, scroll = null, first = [] }: { height: number; width?: number; scroll?: Scroll | null; first?: readonly Scope[] }) {
  const lines: { text: string; head: boolean }[] = [{ text: "Help (Esc or ? closes)", head: true }, ...helpLines(width, first)];
  const shown = scrollWindow(
    lines.map((l) => l.text),
    height,
    scrollAt(scroll, "help"),
    (t) => t,
    "help",
  ).lines;
  return (
    <Box flexDirection="column">
      {shown.map((t, i) => (
        <Text key={i} bold={lines[i]?.head === true && lines[i]?.text === t} wrap="truncate-end">
          {t}
        </Text>
      ))}
    </Box>
  );
}
