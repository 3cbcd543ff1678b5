// The event log: the newest lines that fit, oldest first, one row each, in
// one Text node (see Lines.tsx for why).

import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { fitWidth } from "../model/layout.js";
import type { LogLine } from "../model/store.js";

const MARK: Record<LogLine["kind"], string> = { step: " ", game: "•", hint: "?", error: "✗", notice: "✉", info: "·", talk: "⚑" };

export function EventLog({ log, height, width }: { log: LogLine[]; height: number; width: number }) {
  const shown = log.slice(Math.max(0, log.length - height));
  const parts: ReactNode[] = [];
  let plain = "";
  shown.forEach((l, i) => {
    const text = fitWidth(`${MARK[l.kind]} ${l.text}${(l.repeat ?? 1) > 1 ? ` (x${l.repeat})` : ""}`, width);
    const nl = i < shown.length - 1 ? "\n" : "";
    if (l.kind === "error") {
      if (plain) parts.push(plain);
      plain = nl;
      parts.push(
        <Text key={l.id} color="red">
          {text}
        </Text>,
      );
    } else plain += text + nl;
  });
  if (plain) parts.push(plain);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>
        Event log <Text dimColor>(l: all of it, lines whole, and every hint)</Text>
      </Text>
      {shown.length ? <Text>{parts}</Text> : null}
    </Box>
  );
}
