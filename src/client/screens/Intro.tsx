// A level's intro before it starts: the story, the goal, and for defend
// levels the fix to choose (the knobs, set before play begins).

import { Box } from "ink";
import { goalSentence, mySides, seatLabels } from "../model/game.js";
import { scrollKeys, selectedActor } from "../model/input.js";
import type { PanelLine } from "../model/machine.js";
import { scrollAt, scrollWindow } from "../model/scroll.js";
import { Lines } from "../components/Lines.js";
import { keyBar } from "../model/help.js";
import { wrapLine } from "../model/layout.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import type { ScreenProps } from "./props.js";

export function Intro({ s, ui, cols, rows }: ScreenProps) {
  const room = s.room!;
  const game = s.game!;
  const info = room.level;
  const intro = s.intro?.level === game.level ? s.intro.text : "";
  const thread = info.thread ? `From the thread "${info.thread.subject}" (${info.thread.date})` : null;
  const knobLines: { text: string; sel: boolean }[] = [];
  info.knobs.forEach((k, ki) => {
    const selKnob = ki === Math.min(ui.knobCursor, info.knobs.length - 1);
    knobLines.push({ text: `${selKnob ? "▸" : " "} ${k.prompt}`, sel: false });
    k.options.forEach((o, oi) => {
      const on = game.knobs[k.id] === o.value;
      // The fix's cost is taken off a win; the level file says what each option costs.
      const cost = o.cost ?? 0;
      const label = `${on ? "(●)" : "( )"} ${oi + 1}. ${o.label}${cost ? `  (costs ${cost} points)` : ""}`;
      for (const [i, w] of wrapLine(label, cols - 6, "       ").entries()) knobLines.push({ text: `    ${w}`, sel: on && i === 0 });
    });
  });
  const introLines = intro
    .trim()
    .split("\n")
    .flatMap((l) => wrapLine(l, cols - 2, ""));
  // A versus room: every CPU with its side and who holds it; the player picks one (Tab, c).
  const me = s.you?.member ?? null;
  const sel = selectedActor(s, ui);
  const seatLines = room.versus
    ? [
        "Sides: red makes the race happen, blue keeps every CPU safe to the end.",
        ...seatLabels(room, me).map((x) => `${x.cpu === sel ? "▸" : " "} ${x.label}: ${x.mine ? "you" : room.seats[x.cpu].holder === null ? `free (${x.who})` : x.who}`),
      ]
    : [];
  const sides = mySides(room, me);
  const mine = room.seats.filter((x) => x.holder === me).map((x) => `CPU${x.cpu}`);
  const fallback = s.you?.watch
    ? "You are watching (no seat): Enter shows the game; the players start it."
    : room.versus
    ? sides.length
      ? `Press Enter to begin. You play ${sides.join(" and ")}: ${mine.join(", ")}.`
      : room.seats.some((x) => x.holder === null)
        ? "Pick your side: Tab to a CPU, c to take it; then Enter begins."
        : "Every CPU is taken: Enter watches."
    : `Press Enter to begin. Your CPUs: ${mine.join(", ") || "none yet"}`;
  // The room code, so that others can join before play starts (a versus room's sides are picked here).
  const code = `Room ${room.code}: others join with j ${room.code} in their lobby, or faultline join ${s.url} --room ${room.code} (add --watch to watch without a seat)`;
  // Everything but the status line and the key bar scrolls (PgUp/PgDn, Home/End).
  const lines: PanelLine[] = [
    { text: `${info.title} · ${info.mode} · ${info.race}${info.parPreemptions !== null ? ` · par ${info.parPreemptions} preemption${info.parPreemptions === 1 ? "" : "s"}` : ""}${info.source && info.source !== "campaign" ? ` · ${info.source}` : ""} · room ${room.code}`, head: true },
    ...(thread ? [{ text: thread }] : []),
    ...wrapLine(code, cols - 1).map((text) => ({ text })),
    { text: "" },
    ...introLines.map((text) => ({ text })),
    { text: "" },
    ...wrapLine(`Goal: ${goalSentence(info.mode, info.goal, room.versus)}`, cols - 1).map((text) => ({ text, head: true })),
    ...knobLines.map((k) => ({ text: k.text, head: k.sel })),
    ...seatLines.flatMap((t, i) => wrapLine(t, cols - 1).map((text) => ({ text, head: i === 0 }))),
  ];
  const key = scrollKeys.intro(s);
  const win = scrollWindow(lines, rows - 3, scrollAt(ui.scroll, key), (text): PanelLine => ({ text, head: true }), key);
  return (
    <Box flexDirection="column" width={cols}>
      <Lines lines={win.lines} width={cols} />
      <StatusLine flash={s.flash} fallback={fallback} />
      <KeyBar width={cols} keys={keyBar("intro", { versus: room.versus, knobs: info.knobs.length > 0, scroll: win.max > 0, watch: s.you?.watch === true })} />
    </Box>
  );
}
