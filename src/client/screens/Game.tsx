// The game: the top bar, the selected CPU's code beside the machine, the
// other CPUs, the event log, the status line and the key bar. Overlays
// (help, the syscall menu, confirmations) take the body's place.

import { Box, Text } from "ink";
import { Confirm } from "../components/Confirm.js";
import { EventLog } from "../components/EventLog.js";
import { Help } from "../components/Help.js";
import { KeyBar } from "../components/KeyBar.js";
import { Lines } from "../components/Lines.js";
import { PromptLine, StatusLine } from "../components/StatusLine.js";
import { SAVE_HINT } from "./Sandbox.js";
import { dmaDriver, driverLabels, topBar } from "../model/game.js";
import { keyBar } from "../model/help.js";
import { sandboxRoom, scrollKeys, selectedActor } from "../model/input.js";
import { scrollAt, scrollWindow } from "../model/scroll.js";
import { gameLayout, wrapLine } from "../model/layout.js";
import { cpuListing, cpuPanel } from "../model/listing.js";
import { machinePanel, NO_VIEW, type PanelLine } from "../model/machine.js";
import { MARK_WORDS, type Flash } from "../model/store.js";
import { chatLines, MARK_SYMBOL, planLines } from "../model/talk.js";
import { laneLabel } from "../model/timeline.js";
import type { ScreenProps } from "./props.js";

function MenuOverlay({ title, choices, cursor }: { title: string; choices: { label: string; first: string }[]; cursor: number }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{title}</Text>
      {choices.map((c, i) => (
        <Text key={c.label} inverse={i === cursor} wrap="truncate-end">
          {i === cursor ? "▸" : " "} {i + 1}. {c.label}
          {c.first ? `   → ${c.first}` : ""}
        </Text>
      ))}
    </Box>
  );
}

/** The whole event log, each line wrapped (nothing cut), then every hint shown so far; it scrolls. */
export function LogOverlay({ s, ui, cols, height }: { s: ScreenProps["s"]; ui: ScreenProps["ui"]; cols: number; height: number }) {
  const lines: PanelLine[] = [{ text: "Event log (l or Esc closes)", head: true }];
  for (const l of s.log) for (const w of wrapLine(`${l.text}${(l.repeat ?? 1) > 1 ? ` (x${l.repeat})` : ""}`, cols - 1)) lines.push({ text: w });
  const hints = s.game?.hints ?? [];
  lines.push({ text: "" }, { text: `Hints shown (${hints.length})`, head: true });
  hints.forEach((h, i) => {
    for (const w of wrapLine(`${i + 1}. ${h}`, cols - 1)) lines.push({ text: w });
  });
  const key = scrollKeys.log(s);
  const win = scrollWindow(lines, height, scrollAt(ui.scroll, key), (text): PanelLine => ({ text, head: true }), key);
  return <Lines lines={win.lines} width={cols} />;
}

/**
 * The status line's message: a refusal or the instructor's notice first, then
 * who the game waits for (the server says), then an older hint or info line.
 */
export function statusFlash(flash: Flash | null, waiting: string | null): Flash | null {
  if (flash && flash.kind !== "info") return flash;
  return waiting ? { kind: "info", text: waiting } : flash;
}

/** While the server solves the level (or found it too big), the status line says so: the adversary waits on it. */
function solverLine(solver: { state: string; text: string }): string | undefined {
  return solver.state === "ready" ? undefined : solver.text.charAt(0).toUpperCase() + solver.text.slice(1) + ".";
}

export function Game({ s, ui, cols, rows }: ScreenProps) {
  const room = s.room!;
  const game = s.game!;
  // The chat panel shows once the room has talked (or this player starts to): beside the event log, or under the code.
  const chatting = ui.input?.field === "chat";
  const talking = s.chat.length > 0 || chatting;
  const base = gameLayout(cols, rows);
  const chatRows = talking && !base.twoCol ? 3 : 0;
  const L = { ...base, bodyH: base.bodyH - chatRows };
  const mv = game.view ?? NO_VIEW;
  const me = s.you?.member ?? null;
  const sel = selectedActor(s, ui);
  const top = topBar(room, game, s.levels, me, sel);
  const listings = game.cpus.map((c) => cpuListing(c, s.listings.byPath));
  const dma = game.dma ? `[${dmaDriver(room)}] ${mv.dma ?? ""}` : null;
  const wrap = (t: string, w: number) => wrapLine(t, w);

  let body;
  if (ui.overlay === "help") body = <Help height={L.bodyH + L.logH} width={cols} scroll={ui.scroll} first={s.you?.watch ? ["watchGame", "game"] : ["game"]} />;
  else if (ui.overlay === "quit") body = <Confirm question="Quit Faultline? (your seat is released)" scope="quit" />;
  else if (ui.overlay === "log") body = <LogOverlay s={s} ui={ui} cols={cols} height={L.bodyH + L.logH} />;
  else if (ui.overlay === "reset") body = <Confirm question="Reset the level to its start? (counts against the score)" scope="reset" />;
  else if (ui.overlay === "menu" && sel !== "dma") {
    const l = listings[sel];
    body = <MenuOverlay title={`${l.tag} is at a syscall menu: what does it run next?`} choices={l.choices} cursor={ui.menuCursor} />;
  } else {
    const leftH = L.twoCol ? L.bodyH : Math.ceil(L.bodyH / 2);
    const rightH = L.twoCol ? L.bodyH : L.bodyH - leftH;
    // The marks on the lines shown of the selected CPU, and the cursor while marking.
    const shownPath = sel === "dma" ? null : listings[sel]?.path;
    const marks = new Map(
      s.marks.filter((m) => m.cpu === sel && m.path === shownPath).map((m) => [m.pc, { symbol: MARK_SYMBOL[m.kind], label: `${MARK_SYMBOL[m.kind]} ${MARK_WORDS[m.kind]}: ${m.by === me ? "you" : m.name}` }]),
    );
    // The cursor shows while the CPU is still in the path it was opened on (a step elsewhere may move it on).
    const cursor = ui.mark && ui.mark.cpu === sel && ui.mark.path === shownPath ? ui.mark.line : null;
    const left = cpuPanel({ listings, selected: sel, who: driverLabels(room, me), dma, marks, cursor }, L.leftW, leftH, wrap);
    const lanes = game.cpus.map((c) => laneLabel(c.cpu, c.name));
    const plan = s.plan ? [...planLines(s.plan, game.plan ?? null, lanes, game.dma !== null, game.steps, L.rightW), { text: "" }] : [];
    const machine = [...plan, ...machinePanel(mv, L.rightW, wrap)];
    // The machine scrolls (PgUp/PgDn) when it is taller than its panel.
    const mkey = scrollKeys.machine(s);
    const right = scrollWindow(machine, rightH, scrollAt(ui.scroll, mkey), (text): PanelLine => ({ text, head: true }), mkey).lines;
    body = (
      <Box flexDirection={L.twoCol ? "row" : "column"} height={L.bodyH}>
        <Lines lines={left} width={L.leftW} />
        {L.twoCol ? <Box width={2} /> : null}
        <Lines lines={right} width={L.rightW} />
      </Box>
    );
  }
  const overlayTakesAll = ui.overlay === "help" || ui.overlay === "log";
  const chatInput = chatting ? ui.input!.text : null;
  let bottom = null;
  if (!overlayTakesAll) {
    if (talking && L.twoCol) {
      bottom = (
        <Box flexDirection="row" height={L.logH + 1}>
          <EventLog log={s.log} height={L.logH} width={L.leftW} />
          <Box width={2} />
          <Lines lines={chatLines(s.chat, me, L.rightW, L.logH + 1, chatInput, s.you?.watch === true)} width={L.rightW} />
        </Box>
      );
    } else {
      bottom = (
        <>
          {talking ? <Lines lines={chatLines(s.chat, me, cols, chatRows, chatInput, s.you?.watch === true)} width={cols} /> : null}
          <EventLog log={s.log} height={L.logH} width={cols} />
        </>
      );
    }
  }
  // The plan's one-line input takes the status line while it is open.
  const planInput = ui.input?.field === "plan" ? `Plan: ${ui.input.text}▏ (the schedule syntax, e.g. 1+ 0+ 1+; an empty line records the moves so far, - drops the plan; Enter sends, Esc cancels)` : null;
  return (
    <Box flexDirection="column" width={cols}>
      {top.map((t, i) => (
        <Text key={i} bold={i === 0} wrap="truncate-end">
          {t}
        </Text>
      ))}
      {body}
      {bottom}
      {planInput ? (
        <Text wrap="truncate-start">{planInput}</Text>
      ) : ui.input?.field === "save" ? (
        <PromptLine label="Save the scenario as level id" text={ui.input.text} hint={SAVE_HINT} />
      ) : (
        <StatusLine flash={statusFlash(s.flash, game.waiting ?? null)} fallback={game.phase === "over" ? "This attempt is over: g shows the debrief." : solverLine(room.solver)} />
      )}
      <KeyBar
        width={cols}
        keys={keyBar("game", { over: game.phase === "over", menu: ui.overlay === "menu", log: ui.overlay === "log", sandbox: sandboxRoom(s), watch: s.you?.watch === true, marking: ui.mark !== null, typing: ui.input?.field === "chat" || ui.input?.field === "plan" })}
      />
    </Box>
  );
}
