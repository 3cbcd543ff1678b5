// The lobby: the player's name, the campaign with completion marks and best
// scores, and the ways into a room (create from the list, join by code) or a
// workshop dashboard.

import { Box, Text } from "ink";
import { keyBar } from "../model/help.js";
import { progressMark } from "../model/progress.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import type { ScreenProps } from "./props.js";
import type { InputField } from "../model/input.js";

const FIELD_PROMPT: Record<InputField, string> = { name: "Your name", code: "Room code", announce: "Announcement", title: "Workshop title", save: "Level id", chat: "Say", plan: "Plan", wchat: "Say to every team" };

export function Lobby({ s, ui, cols, rows, progress }: ScreenProps) {
  const levels = s.levels;
  const cur = levels[ui.lobbyCursor];
  // Header (4) + detail (3) + status and keys (2) + a spare line.
  const listH = Math.max(3, rows - 10);
  const start = Math.min(Math.max(0, ui.lobbyCursor - Math.floor(listH / 2)), Math.max(0, levels.length - listH));
  const shown = levels.slice(start, start + listH);
  return (
    <Box flexDirection="column">
      <Text bold>FAULTLINE · the races of Linux memory management, one line at a time</Text>
      <Text wrap="truncate-end">
        Playing as {s.player?.name ?? "…"} on {s.url}
        {s.workshop ? ` · workshop ${s.workshop.id}` : ""}
      </Text>
      {ui.input ? (
        <Text>
          {FIELD_PROMPT[ui.input.field]}: {ui.input.text}▏ (Enter to confirm, Esc to cancel)
        </Text>
      ) : (
        <Text> </Text>
      )}
      <Text bold>Campaign ({levels.length} levels) · ✓ won · ◐ played · best score</Text>
      {shown.map((l, i) => {
        const n = start + i;
        const p = progress[l.id];
        const sel = n === ui.lobbyCursor;
        return (
          <Text key={l.id} inverse={sel} wrap="truncate-end">
            {sel ? "▸" : " "} {progressMark(p)} {String(n + 1).padStart(2)}. {l.title.padEnd(36)} {l.mode.padEnd(6)} {l.race.padEnd(6)}
            {p?.best != null ? ` best ${p.best}` : ""}
          </Text>
        );
      })}
      <Text> </Text>
      {cur ? (
        <Text wrap="truncate-end">
          {cur.id} · {cur.cpus.length} CPU{cur.cpus.length === 1 ? "" : "s"} ({cur.cpus.map((c) => (c.side ? `${c.name} ${c.side}` : c.name)).join(", ")}){cur.dma ? " + a DMA device" : ""}
          {cur.parPreemptions !== null ? ` · par ${cur.parPreemptions} preemption${cur.parPreemptions === 1 ? "" : "s"}` : ""}
          {cur.knobs.length ? ` · you choose: ${cur.knobs.map((k) => k.id).join(", ")}` : ""}
          {cur.mode === "versus" ? " · versus: pick red or blue in the room" : ""}
          {cur.source && cur.source !== "campaign" ? ` · ${cur.source}` : ""}
        </Text>
      ) : (
        <Text>{s.conn === "open" ? "Waiting for the campaign…" : "Connecting…"}</Text>
      )}
      <StatusLine flash={s.flash} />
      <KeyBar width={cols} keys={keyBar("lobby", { policy: ui.policy })} />
    </Box>
  );
}
