// The debrief: what broke (or why the defence held), the whole schedule as a
// timeline with the breaking step marked, the upstream fix, the score against
// par, and the keys for replay, retry and the next level.

import { Box, Text } from "ink";
import { Help } from "../components/Help.js";
import { Confirm } from "../components/Confirm.js";
import { KeyBar } from "../components/KeyBar.js";
import { StatusLine } from "../components/StatusLine.js";
import { myResult, mySides, resultHeadline, scoreLine, winnerLines } from "../model/game.js";
import { keyBar } from "../model/help.js";
import { clip, wrapLine } from "../model/layout.js";
import { traceLine } from "../model/store.js";
import { TIMELINE_LEGEND, timelineRows } from "../model/timeline.js";
import type { ScreenProps } from "./props.js";

export function Debrief({ s, ui, cols, rows, local }: ScreenProps) {
  const room = s.room!;
  const game = s.game!;
  const r = game.result!;
  const info = room.level;
  const level = local.level(game.level);
  const me = s.you?.member ?? null;
  if (ui.overlay === "help") return <Help height={rows - 1} />;
  if (ui.overlay === "quit") return <Confirm question="Quit Faultline?" />;

  const sides = mySides(room, me);
  // The step at which an oracle fired (a hunt's win, a defence's loss, a deadlock); none when every CPU finished.
  const breakStep = r.oracle?.step ?? null;
  const lanes = game.cpus.map((c) => `CPU${c.cpu} ${c.name}`);
  const tl = timelineRows(s.trace, lanes, game.dma !== null, breakStep, cols - 1, ui.replay?.at ?? null);
  const focus = ui.replay ? s.trace[ui.replay.at - 1] : breakStep !== null ? s.trace[breakStep - 1] : null;
  const focusText = focus ? `${ui.replay ? `Replay ${ui.replay.at}/${s.trace.length}${ui.replay.playing ? " ▶" : " ❚❚"}` : "The breaking step"}: ${traceLine(focus, room, me)}` : null;
  const thread = level?.thread ? `Upstream: "${level.thread.subject}" (${level.thread.date})` : null;

  const head = [
    `DEBRIEF · ${info.title} · ${game.attempt}`,
    // A versus result names the winning side (red: the race happened; blue: it did not).
    ...(r.winner !== null ? winnerLines(r, sides) : [resultHeadline(r, info.mode)]).flatMap((t) => wrapLine(t, cols - 1)),
    // Versus: your side's score (both sides' when you watched or played both).
    r.winner !== null && sides.length !== 1 && r.scores ? `${scoreLine(r).replace(/^Score \d+/, `Score red ${r.scores.red} · blue ${r.scores.blue}`)}` : scoreLine(myResult(r, sides)),
  ];
  const tlRows = [tl.header, ...tl.lanes.map((l) => l.label + l.cells), ...(tl.marker ? [tl.marker] : [])];
  const hidden = tl.hiddenBefore || tl.hiddenAfter ? `(steps ${tl.hiddenBefore + 1}-${s.trace.length - tl.hiddenAfter} of ${s.trace.length} shown)` : "";
  const focusLines = focusText ? wrapLine(focusText, cols - 1) : [];
  const used = head.length + 1 + 1 + tlRows.length + 1 + focusLines.length + 1 + (thread ? 1 : 0) + 3;
  const fix = (game.debrief ?? "")
    .trim()
    .split("\n")
    .flatMap((l) => wrapLine(l, cols - 1, ""));
  return (
    <Box flexDirection="column" width={cols}>
      {head.map((t, i) => (
        <Text key={`h${i}`} bold={i < head.length - 1} wrap="truncate-end">
          {t}
        </Text>
      ))}
      <Text> </Text>
      <Text bold>Timeline {hidden}</Text>
      {tlRows.map((t, i) => (
        <Text key={`t${i}`} wrap="truncate-end">
          {t}
        </Text>
      ))}
      <Text dimColor wrap="truncate-end">
        {TIMELINE_LEGEND}
      </Text>
      {focusLines.map((t, i) => (
        <Text key={`f${i}`} wrap="truncate-end">
          {t}
        </Text>
      ))}
      <Text> </Text>
      {thread ? (
        <Text bold wrap="truncate-end">
          {thread}
        </Text>
      ) : null}
      {clip(fix, Math.max(1, rows - used - 1), "more lines").map((t, i) => (
        <Text key={`d${i}`} wrap="truncate-end">
          {t || " "}
        </Text>
      ))}
      <StatusLine flash={s.flash} />
      <KeyBar keys={keyBar("debrief", { replay: ui.replay !== null })} />
    </Box>
  );
}
