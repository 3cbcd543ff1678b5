// The sandbox composer: the scenario being built, one part a row, from the catalogue the
// server sent. The selected row's meaning (the catalogue's words) is shown under the list;
// the server checks the scenario when the room is created and names any part it refuses.

import { Box, Text } from "ink";
import { KeyBar } from "../components/KeyBar.js";
import { Lines } from "../components/Lines.js";
import { StatusLine } from "../components/StatusLine.js";
import { keyBar } from "../model/help.js";
import { wrapLine } from "../model/layout.js";
import type { PanelLine } from "../model/machine.js";
import { composerRows, usage } from "../model/sandbox.js";
import type { ScreenProps } from "./props.js";

/** What the save prompt says about where the file goes. */
export const SAVE_HINT = "the file is ID.yaml in this folder; Enter saves, Esc cancels";

const LABEL_W = 34;

export function Sandbox({ s, ui, cols, rows }: ScreenProps) {
  const cat = s.sandbox;
  const head = [
    <Text key="t" bold wrap="truncate-end">
      FAULTLINE · Sandbox: compose a scenario, then hunt in it with every oracle watching
    </Text>,
  ];
  if (!cat) {
    return (
      <Box flexDirection="column" width={cols}>
        {head}
        <Text>{s.conn === "open" ? "Asking the server for the sandbox catalogue…" : "Connecting…"}</Text>
        <StatusLine flash={s.flash} />
        <KeyBar width={cols} keys={keyBar("sandbox")} />
      </Box>
    );
  }
  const sc = ui.composer?.scenario ?? cat.example;
  const all = composerRows(cat, sc);
  const at = Math.min(ui.composer?.row ?? 0, all.length - 1);
  const sel = all[at];
  const about = wrapLine(sel.text || " ", cols - 2, "  ").slice(0, 3);
  // Header (2) + a blank and the selected part's meaning (1 + 3) + status and keys (2) + a spare line.
  const listH = Math.max(4, rows - 2 - 4 - 2 - 1);
  const start = Math.min(Math.max(0, at - Math.floor(listH / 2)), Math.max(0, all.length - listH));
  const lines: PanelLine[] = all.slice(start, start + listH).map((r, i) => {
    const mark = start + i === at ? "▸" : " ";
    const value = r.value === "" ? "" : `◂ ${r.value} ▸`;
    return { text: `${mark} ${r.label.padEnd(LABEL_W)}${value}`, at: start + i === at };
  });
  return (
    <Box flexDirection="column" width={cols}>
      {head}
      <Text wrap="truncate-end">{usage(cat, sc)}</Text>
      <Lines lines={lines} width={cols} />
      <Text> </Text>
      {about.map((t, i) => (
        <Text key={i} wrap="truncate-end">
          {t}
        </Text>
      ))}
      <StatusLine flash={s.flash} />
      <KeyBar width={cols} keys={keyBar("sandbox")} />
    </Box>
  );
}
