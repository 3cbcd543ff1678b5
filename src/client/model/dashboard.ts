// The dashboard's table: one row per team, fixed columns, symbols for state.

import type { DashboardTeam } from "../../protocol/server.js";

const PHASE: Record<DashboardTeam["phase"], string> = { setup: "○ setup", play: "▶ play", over: "■ over" };

function outcome(t: DashboardTeam): string {
  if (t.outcome === null) return "";
  return t.outcome === "won" ? `✓ won ${t.score ?? ""}` : "✗ lost";
}

/**
 * The table, sized to `width` columns (narrower columns under 100, so that every
 * column stays on screen at 80); `paused`: the workshop is paused, and rows in
 * play say so instead of "▶ play".
 */
export function dashboardRows(teams: DashboardTeam[], cursor: number, max: number, opts: { width?: number; paused?: boolean } = {}) {
  const narrow = (opts.width ?? 120) < 100;
  const w = narrow ? { team: 8, level: 10, state: 9, steps: 4, hints: 3, rew: 3, result: 11 } : { team: 16, level: 22, state: 9, steps: 5, hints: 5, rew: 4, result: 12 };
  const phase = (t: DashboardTeam) => (opts.paused && t.phase !== "over" ? "❚❚ paused" : PHASE[t.phase]);
  const header = `  ${"room".padEnd(7)}${"team".padEnd(w.team)}${"level".padEnd(w.level)}${"state".padEnd(w.state)}${(narrow ? "step" : "steps").padStart(w.steps)} ${(narrow ? "hnt" : "hints").padStart(w.hints)} ${"rew".padStart(w.rew)}  ${"result".padEnd(w.result)}${"total".padStart(6)} ${"done".padStart(4)}  ${narrow ? "on" : "online"}`;
  const start = Math.min(Math.max(0, cursor - Math.floor(max / 2)), Math.max(0, teams.length - max));
  const rows = teams.slice(start, start + max).map((t, i) => ({
    selected: start + i === cursor,
    text: `${start + i === cursor ? "▸" : " "} ${t.room.padEnd(7)}${(t.team ?? "-").slice(0, w.team - 1).padEnd(w.team)}${t.level.slice(0, w.level - 1).padEnd(w.level)}${phase(t).padEnd(w.state)}${String(t.steps).padStart(w.steps)} ${String(t.hintsUsed).padStart(w.hints)} ${String(t.rewinds).padStart(w.rew)}  ${outcome(t).padEnd(w.result)}${String(t.totalScore).padStart(6)} ${String(t.finished).padStart(4)}  ${t.connected}/${t.members}`,
  }));
  const playing = teams.filter((t) => t.phase === "play").length;
  const won = teams.reduce((n, t) => n + (t.outcome === "won" ? 1 : 0), 0);
  const summary = `${teams.length} team${teams.length === 1 ? "" : "s"} · ${playing} ${opts.paused ? "in play (paused)" : "playing"} · ${won} just won · ${teams.reduce((n, t) => n + t.finished, 0)} attempts finished`;
  return { header, rows, summary };
}
