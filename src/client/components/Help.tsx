// The `?` help screen: every key and every symbol the screens use.

import { Box, Text } from "ink";
import { HELP_TEXT } from "../model/help.js";
import { clip } from "../model/layout.js";

export function Help({ height }: { height: number }) {
  const lines: { text: string; head: boolean }[] = [{ text: "Help (Esc or ? closes)", head: true }];
  for (const sec of HELP_TEXT) {
    lines.push({ text: sec.title, head: true });
    for (const l of sec.lines) lines.push({ text: `  ${l}`, head: false });
  }
  const shown = clip(
    lines.map((l) => l.text),
    height,
  );
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
