// The instructor's dashboard: every team of the workshop live, with pause,
// announcements and hint release.

import { Box, Text } from "ink";
import { Confirm } from "../components/Confirm.js";
import { Help } from "../components/Help.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import { dashboardRows } from "../model/dashboard.js";
import { keyBar } from "../model/help.js";
import type { ScreenProps } from "./props.js";

export function Dashboard({ s, ui, cols, rows }: ScreenProps) {
  if (ui.overlay === "help") return <Help height={rows - 1} scroll={ui.scroll} />;
  if (ui.overlay === "quit") return <Confirm question="Quit Faultline? (the workshop goes on without this window)" />;
  const d = s.dashboard;
  const ws = s.workshop;
  const t = dashboardRows(d?.teams ?? [], ui.teamCursor, Math.max(3, rows - 10));
  return (
    <Box flexDirection="column" width={cols}>
      <Text bold wrap="truncate-end">
        WORKSHOP {d ? `${d.workshop.title} · code ${d.workshop.id}${d.workshop.paused ? " · ❚❚ PAUSED" : " · ▶ running"}` : "(waiting for the dashboard…)"}
      </Text>
      <Text wrap="truncate-end">{ws ? `Teams join with: faultline join ${s.url} --workshop ${ws.id} --team NAME` : " "}</Text>
      <Text wrap="truncate-end">{ws ? `Watch it again: faultline join ${s.url} --workshop ${ws.id} --token ${ws.token}` : " "}</Text>
      {ui.input ? <Text>Announcement: {ui.input.text}▏ (Enter sends to every team, Esc cancels)</Text> : <Text> </Text>}
      <Text bold wrap="truncate-end">
        {t.header}
      </Text>
      {t.rows.map((r, i) => (
        <Text key={i} inverse={r.selected} wrap="truncate-end">
          {r.text}
        </Text>
      ))}
      {t.rows.length === 0 ? <Text>No team has created a room in this workshop yet.</Text> : null}
      <Text> </Text>
      <Text wrap="truncate-end">{t.summary}</Text>
      <StatusLine flash={s.flash} />
      <KeyBar width={cols} keys={keyBar("dashboard")} />
    </Box>
  );
}
