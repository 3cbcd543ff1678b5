// The `?` help screen: every key and every symbol the screens use.

import { Box, Text } from "ink";
import { HELP_TEXT } from "../model/help.js";
import { scrollAt, scrollWindow, type Scroll } from "../model/scroll.js";

/** `scroll`: the UI's scroll state (↑↓ PgUp/PgDn scroll the help when it is taller than the screen). */
export function Help({ height, scroll = null }: { height: number; scroll?: Scroll | null }) {
  const lines: { text: string; head: boolean }[] = [{ text: "Help (Esc or ? closes)", head: true }];
  for (const sec of HELP_TEXT) {
    lines.push({ text: sec.title, head: true });
    for (const l of sec.lines) lines.push({ text: `  ${l}`, head: false });
  }
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
