// A level's intro before it starts: the story, the goal, and for defend
// levels the fix to choose (the knobs, set before play begins).

import { Box, Text } from "ink";
import { goalSentence } from "../model/game.js";
import { keyBar } from "../model/help.js";
import { clip, wrapLine } from "../model/layout.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import type { ScreenProps } from "./props.js";

export function Intro({ s, ui, cols, rows, local }: ScreenProps) {
  const room = s.room!;
  const game = s.game!;
  const info = room.level;
  const level = local.level(info.id);
  const intro = s.intro?.level === game.level ? s.intro.text : (level?.intro ?? "");
  const thread = level?.thread ? `From the thread "${level.thread.subject}" (${level.thread.date})` : null;
  const knobLines: { text: string; sel: boolean }[] = [];
  info.knobs.forEach((k, ki) => {
    const selKnob = ki === Math.min(ui.knobCursor, info.knobs.length - 1);
    knobLines.push({ text: `${selKnob ? "▸" : " "} ${k.prompt}`, sel: false });
    const localKnob = level?.knobs.find((x) => x.id === k.id);
    k.options.forEach((o, oi) => {
      const on = game.knobs[k.id] === o.value;
      // The fix's cost is taken off a win; the level file says what each option costs.
      const cost = localKnob?.options.find((x) => x.value === o.value)?.cost ?? 0;
      const label = `${on ? "(●)" : "( )"} ${oi + 1}. ${o.label}${cost ? `  (costs ${cost} points)` : ""}`;
      for (const [i, w] of wrapLine(label, cols - 6, "       ").entries()) knobLines.push({ text: `    ${w}`, sel: on && i === 0 });
    });
  });
  const introLines = intro
    .trim()
    .split("\n")
    .flatMap((l) => wrapLine(l, cols - 2, ""));
  const budget = Math.max(3, rows - 9 - knobLines.length - (thread ? 1 : 0));
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {info.title} · {info.mode} · {info.race}
        {info.par !== null ? ` · par ${info.par}` : ""}
      </Text>
      {thread ? <Text wrap="truncate-end">{thread}</Text> : null}
      <Text> </Text>
      {clip(introLines, budget, "more lines").map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {l || " "}
        </Text>
      ))}
      <Text> </Text>
      {wrapLine(`Goal: ${goalSentence(info.mode, level)}`, cols - 1).map((t, i) => (
        <Text key={`g${i}`} bold wrap="truncate-end">
          {t}
        </Text>
      ))}
      {knobLines.map((k, i) => (
        <Text key={`k${i}`} bold={k.sel} wrap="truncate-end">
          {k.text}
        </Text>
      ))}
      <StatusLine flash={s.flash} fallback={`Press Enter to begin. Your CPUs: ${room.seats.filter((x) => x.holder === s.you?.member).map((x) => `CPU${x.cpu}`).join(", ") || "none yet"}`} />
      <KeyBar keys={keyBar("intro")} />
    </Box>
  );
}
