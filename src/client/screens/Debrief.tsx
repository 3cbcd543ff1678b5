// The debrief: what broke (or why the defence held), the whole schedule as a
// timeline with the breaking step marked, the upstream fix, the score against
// par, and the keys for replay, retry and the next level.

import { Box, Text } from "ink";
import { Help } from "../components/Help.js";
import { Confirm } from "../components/Confirm.js";
import { KeyBar } from "../components/KeyBar.js";
import { PromptLine, StatusLine } from "../components/StatusLine.js";
import { SAVE_HINT } from "./Sandbox.js";
import { myResult, mySides, resultHeadline, scoreLine, winnerLines } from "../model/game.js";
import { keyBar } from "../model/help.js";
import { shellLines, wrapLine } from "../model/layout.js";
import { sandboxRoom, scrollKeys } from "../model/input.js";
import type { PanelLine } from "../model/machine.js";
import { scrollAt, scrollWindow } from "../model/scroll.js";
import { Lines } from "../components/Lines.js";
import { traceLine } from "../model/store.js";
import { laneLabel, TIMELINE_LEGEND, timelineLines, timelineRows } from "../model/timeline.js";
import type { ScreenProps } from "./props.js";
import { attemptChat } from "../model/talk.js";

export function Debrief({ s, ui, cols, rows }: ScreenProps) {
  const room = s.room!;
  const game = s.game!;
  const r = game.result!;
  const info = room.level;
  const me = s.you?.member ?? null;
  if (ui.overlay === "help") return <Help height={rows - 1} width={cols} scroll={ui.scroll} first={s.you?.watch ? ["watchDebrief", "debrief", "replay"] : ["debrief", "replay"]} />;
  if (ui.overlay === "quit") return <Confirm question="Quit Faultline?" scope="quit" />;

  const sides = mySides(room, me);
  // The step at which an oracle fired (a hunt's win, a defence's loss, a deadlock); none when every CPU finished.
  const breakStep = r.oracle?.step ?? null;
  const lanes = game.cpus.map((c) => laneLabel(c.cpu, c.name));
  const tl = timelineRows(s.trace, lanes, game.dma !== null, breakStep, cols - 1, ui.replay?.at ?? null);
  const focus = ui.replay ? s.trace[ui.replay.at - 1] : breakStep !== null ? s.trace[breakStep - 1] : null;
  const focusText = focus ? `${ui.replay ? `Replay ${ui.replay.at}/${s.trace.length}${ui.replay.playing ? " ▶" : " ❚❚"}` : "The breaking step"}: ${traceLine(focus, room, me)}` : null;
  const thread = info.thread ? `Upstream: "${info.thread.subject}" (${info.thread.date})` : null;

  // The title and the result in bold, then the score.
  const head = [
    `DEBRIEF · ${info.title} · ${game.attempt}`,
    // A versus result names the winning side (red: the race happened; blue: it did not).
    ...(r.winner !== null ? winnerLines(r, sides) : [resultHeadline(r, info.mode)]).flatMap((t) => wrapLine(t, cols - 1)),
  ];
  // Versus: your side's score (both sides' when you watched or played both).
  const score = wrapLine(r.winner !== null && sides.length !== 1 && r.scores ? scoreLine(r).replace(/^Score \d+/, `Score red ${r.scores.red} · blue ${r.scores.blue}`) : scoreLine(myResult(r, sides)), cols - 1);
  const tlRows = timelineLines(tl);
  const hidden = tl.hiddenBefore || tl.hiddenAfter ? `(steps ${tl.hiddenBefore + 1}-${s.trace.length - tl.hiddenAfter} of ${s.trace.length} shown)` : "";
  const focusLines = focusText ? wrapLine(focusText, cols - 1) : [];
  // What the room said: during a replay, up to the step shown; else all of it, after the debrief's text.
  const said = attemptChat(s.chat, game.attempt, me, ui.replay ? ui.replay.at : null);
  const saidLines = ui.replay ? said.slice(-3) : said;
  // The server's share line: the schedule, and the command that replays it, broken so that it still pastes whole.
  const share = r.share ? [...wrapLine(`Share: ${r.share.schedule}`, cols - 1), ...shellLines(r.share.command, cols - 1)] : [];
  const fix = (game.debrief ?? "")
    .trim()
    .split("\n")
    .flatMap((l) => wrapLine(l, cols - 1, ""));
  // Everything but the status line and the key bar scrolls (PgUp/PgDn, ↑↓, Home/End).
  const lines: PanelLine[] = [
    ...head.map((text) => ({ text, head: true })),
    ...score.map((text) => ({ text })),
    { text: "" },
    { text: `Timeline ${hidden}`, head: true },
    ...tlRows.map((text) => ({ text })),
    ...wrapLine(TIMELINE_LEGEND, cols - 1).map((text) => ({ text })),
    ...focusLines.map((text) => ({ text })),
    ...(ui.replay ? saidLines.flatMap((t) => wrapLine(`  ${t}`, cols - 1)).map((text) => ({ text })) : []),
    { text: "" },
    ...share.map((text, i) => ({ text, head: i === 0 })),
    ...(share.length ? [{ text: "" }] : []),
    ...(thread ? [{ text: thread, head: true }] : []),
    ...fix.map((text) => ({ text })),
    ...(!ui.replay && said.length ? [{ text: "" }, { text: "Said during this attempt", head: true }, ...said.flatMap((t) => wrapLine(t, cols - 1)).map((text) => ({ text }))] : []),
  ];
  const key = scrollKeys.debrief(s);
  const win = scrollWindow(lines, rows - 3, scrollAt(ui.scroll, key), (text): PanelLine => ({ text, head: true }), key);
  return (
    <Box flexDirection="column" width={cols}>
      <Lines lines={win.lines} width={cols} />
      {ui.input?.field === "chat" ? (
        <Text wrap="truncate-start">Say: {ui.input.text}▏ (Enter sends, Esc leaves)</Text>
      ) : ui.input?.field === "save" ? (
        <PromptLine label="Save the scenario as level id" text={ui.input.text} hint={SAVE_HINT} />
      ) : (
        <StatusLine flash={s.flash} />
      )}
      <KeyBar width={cols} keys={keyBar("debrief", { replay: ui.replay !== null, scroll: win.max > 0, sandbox: sandboxRoom(s), watch: s.you?.watch === true, typing: ui.input?.field === "chat" })} />
    </Box>
  );
}
