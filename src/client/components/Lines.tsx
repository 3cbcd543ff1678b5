// A column of lines, one terminal row each: cut to the width here (so Ink
// never wraps them and the screens can budget their height exactly), and
// drawn as one Text node with nested Text only for the styled lines. Ink lays
// out, measures and tokenises every Text node on every frame; a panel of
// forty one-line nodes cost about twice as much as one node of forty lines.

import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { fitWidth } from "../model/layout.js";
import type { PanelLine } from "../model/machine.js";

export function Lines({ lines, width }: { lines: PanelLine[]; width: number }) {
  const parts: ReactNode[] = [];
  let plain = "";
  lines.forEach((l, i) => {
    const text = fitWidth(l.text || " ", width);
    const nl = i < lines.length - 1 ? "\n" : "";
    if (l.head || l.at) {
      if (plain) parts.push(plain);
      plain = nl;
      parts.push(
        <Text key={i} bold inverse={l.at === true}>
          {text}
        </Text>,
      );
    } else plain += text + nl;
  });
  if (plain) parts.push(plain);
  return (
    <Box width={width} flexDirection="column">
      <Text>{parts}</Text>
    </Box>
  );
}
