// The instructor's dashboard: every team of the workshop live, with pause,
// announcements and hint release.

import { Box, Text } from "ink";
import { Confirm } from "../components/Confirm.js";
import { Help } from "../components/Help.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import { dashboardRows } from "../model/dashboard.js";
import { keyBar } from "../model/help.js";
import { wrapLine } from "../model/layout.js";
import type { ClientState } from "../model/store.js";
import type { ScreenProps } from "./props.js";

/**
 * How teams join, and the instructor's token whole on a line of its own (so
 * that it copies), with where it was saved. Every line fits `cols` (wrapped).
 */
export function instructorLines(url: string, ws: ClientState["workshop"], cols: number): string[] {
  if (!ws) return [" "];
  const wrap = (t: string) => wrapLine(t, cols - 1);
  return [
    ...wrap(`Teams join with: faultline join ${url} --workshop ${ws.id} --team NAME`),
    ...wrap(
      ws.saved
        ? `Your instructor token (secret) is saved in ${ws.saved}; faultline join ${url} --workshop ${ws.id} opens this dashboard again. The token:`
        : `Your instructor token (secret; it was not saved): faultline join ${url} --workshop ${ws.id} --token TOKEN opens this dashboard again. The token:`,
    ),
    ws.token,
  ];
}

export function Dashboard({ s, ui, cols, rows }: ScreenProps) {
  if (ui.overlay === "help") return <Help height={rows - 1} width={cols} scroll={ui.scroll} first={["dashboard"]} />;
  if (ui.overlay === "quit") return <Confirm question="Quit Faultline? (the workshop goes on without this window)" scope="quit" />;
  const d = s.dashboard;
  const ws = s.workshop;
  const head = instructorLines(s.url, ws, cols).length;
  const team = d?.teams[ui.teamCursor];
  const t = dashboardRows(d?.teams ?? [], ui.teamCursor, Math.max(3, rows - 8 - head), { width: cols, paused: d?.workshop.paused === true });
  return (
    <Box flexDirection="column" width={cols}>
      <Text bold wrap="truncate-end">
        WORKSHOP {d ? `${d.workshop.title} · code ${d.workshop.id}${d.workshop.paused ? " · ❚❚ PAUSED" : " · ▶ running"}` : "(waiting for the dashboard…)"}
      </Text>
      {instructorLines(s.url, ws, cols).map((t, i) => (
        <Text key={`w${i}`}>{t}</Text>
      ))}
      {ui.input ? (
        <Text wrap="truncate-start">
          {ui.input.field === "wchat" ? "Chat to every team" : "Announcement"}: {ui.input.text}▏ (Enter sends to every team, Esc cancels)
        </Text>
      ) : ui.overlay === "mute" ? (
        <Text wrap="truncate-end">Mute or unmute in {team?.team ?? team?.room ?? "?"}: {(team?.players ?? []).slice(0, 9).map((p, i) => `${i + 1} ${p.name}${p.muted ? " (muted)" : ""}`).join(" · ")} · Esc cancels</Text>
      ) : (
        <Text> </Text>
      )}
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
