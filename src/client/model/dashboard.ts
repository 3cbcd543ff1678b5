// The dashboard's table: one row per team, fixed columns, symbols for state.

import type { DashboardTeam } from "../../protocol/server.js";

const PHASE: Record<DashboardTeam["phase"], string> = { setup: "○ setup", play: "▶ play", over: "■ over" };

function outcome(t: DashboardTeam): string {
  if (t.outcome === null) return "";
  return t.outcome === "won" ? `✓ won ${t.score ?? ""}` : "✗ lost";
}

export function dashboardRows(teams: DashboardTeam[], cursor: number, max: number) {
  const header = `  ${"room".padEnd(7)}${"team".padEnd(16)}${"level".padEnd(22)}${"state".padEnd(9)}${"steps".padStart(5)} ${"hints".padStart(5)} ${"rew".padStart(4)}  ${"result".padEnd(12)}${"total".padStart(6)} ${"done".padStart(4)}  online`;
  const start = Math.min(Math.max(0, cursor - Math.floor(max / 2)), Math.max(0, teams.length - max));
  const rows = teams.slice(start, start + max).map((t, i) => ({
    selected: start + i === cursor,
    text: `${start + i === cursor ? "▸" : " "} ${t.room.padEnd(7)}${(t.team ?? "-").slice(0, 15).padEnd(16)}${t.level.slice(0, 21).padEnd(22)}${PHASE[t.phase].padEnd(9)}${String(t.steps).padStart(5)} ${String(t.hintsUsed).padStart(5)} ${String(t.rewinds).padStart(4)}  ${outcome(t).padEnd(12)}${String(t.totalScore).padStart(6)} ${String(t.finished).padStart(4)}  ${t.connected}/${t.members}`,
  }));
  const playing = teams.filter((t) => t.phase === "play").length;
  const won = teams.reduce((n, t) => n + (t.outcome === "won" ? 1 : 0), 0);
  const summary = `${teams.length} team${teams.length === 1 ? "" : "s"} · ${playing} playing · ${won} just won · ${teams.reduce((n, t) => n + t.finished, 0)} attempts finished`;
  return { header, rows, summary };
}
