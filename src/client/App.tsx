// The root of the Ink app: reads the client state, turns keys into intents
// (model/input.ts), sends what they ask, and picks the screen. It holds no
// game rules; the server's answers are what it shows.

import { Box, useApp, useInput, useStdin } from "ink";
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { ClientMessageInput } from "../protocol/client.js";
import { Confirm } from "./components/Confirm.js";
import { Help } from "./components/Help.js";
import { TooSmall } from "./components/TooSmall.js";
import { useTerminalSize, type Size } from "./hooks/useTerminalSize.js";
import { answers } from "./model/help.js";
import { handleKey, initialUi, replayTick, screenOf, type Effect, type UiState } from "./model/input.js";
import { keysOf } from "./model/chunk.js";
import { worksWhenSmall, type KeyPress } from "./model/keys.js";
import { tooSmall } from "./model/layout.js";
import { recordAttempts, type Progress } from "./model/progress.js";
import type { ClientState } from "./model/store.js";
import { Connecting } from "./screens/Connecting.js";
import { Dashboard } from "./screens/Dashboard.js";
import { Debrief } from "./screens/Debrief.js";
import { Game } from "./screens/Game.js";
import { Intro } from "./screens/Intro.js";
import { Lobby } from "./screens/Lobby.js";
import { Sandbox } from "./screens/Sandbox.js";
import type { ScreenProps } from "./screens/props.js";

export interface AppActions {
  /** Send a request; false when not connected. */
  send(msg: ClientMessageInput): boolean;
  rename(name: string): void;
  /** Forget the room locally (the leave request has been sent). */
  left(): void;
  /** Say something on the status line (a local refusal, a pointer to the right key). */
  flash(text: string, kind?: "error" | "info"): void;
  /** The player quits (the app unmounts itself; the shell then closes the socket). */
  quit(): void;
}

export interface AppProps {
  store: { get(): ClientState; subscribe(fn: () => void): () => void };
  actions: AppActions;
  /** Progress saved on this computer before this session. */
  progress: Progress;
  workshop?: string;
  team?: string;
  /** Instructor credentials from the command line (--workshop ID --token T). */
  watch?: { id: string; token: string } | null;
  /** A fixed size (tests, the benchmark); otherwise the terminal's, following resizes. */
  size?: Size;
  /** Start on the dashboard (an instructor watching a workshop). */
  dashboard?: boolean;
  /** Debrief replay speed. */
  replayMs?: number;
}

const NO_PROGRESS = new Set<string>();

export function App(props: AppProps) {
  const { store, actions } = props;
  const s = useSyncExternalStore(store.subscribe, store.get, store.get);
  const [ui, setUi] = useState<UiState>(() => ({ ...initialUi, dashboard: props.dashboard === true }));
  const { cols, rows } = useTerminalSize(props.size);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const progress = useMemo(() => recordAttempts(props.progress, s.finished, NO_PROGRESS), [props.progress, s.finished]);
  const instructor = s.workshop ? { id: s.workshop.id, token: s.workshop.token } : (props.watch ?? null);

  const run = (effects: Effect[]) => {
    for (const e of effects) {
      if (e.kind === "exit") {
        actions.quit();
        exit();
      } else if (e.kind === "rename") actions.rename(e.name);
      else if (e.kind === "leave") actions.left();
      else actions.flash(e.text, "info");
    }
  };

  // Keys can arrive faster than React re-renders: each one must see the UI state the previous one left,
  // not the state of the render that registered this handler.
  const uiRef = useRef(ui);
  uiRef.current = ui;
  const sizeRef = useRef({ cols, rows });
  sizeRef.current = { cols, rows };
  useInput(
    (input, key) => {
      for (const k of keysOf({ ...key, input })) onKey(k);
    },
    { isActive: isRawModeSupported === true },
  );

  function onKey(k: KeyPress): void {
    // While the terminal is too small to show the game, only quitting works: no blind moves.
    if (tooSmall(sizeRef.current.cols, sizeRef.current.rows) && !worksWhenSmall(k)) return;
    const out = handleKey({ s: store.get(), workshop: props.workshop, team: props.team, instructor }, uiRef.current, k);
    uiRef.current = out.ui;
    setUi(out.ui);
    for (const msg of out.send) if (!actions.send(msg)) actions.flash("Not connected: that key was not sent.", "error");
    run(out.effects);
  }

  const playing = ui.replay?.playing === true;
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => setUi((u) => replayTick(u, store.get().trace.length)), props.replayMs ?? 700);
    return () => clearInterval(t);
  }, [playing, store, props.replayMs]);

  const small = tooSmall(cols, rows);
  // Every screen fills the terminal: Ink then redraws a full frame (it clears the terminal) instead
  // of erasing the previous frame line by line, which a resize that reflows long lines defeats
  // (the erase misses the wrapped rows and a header is left twice on the screen).
  return (
    <Box flexDirection="column" height={rows}>
      {small ? <TooSmall message={ui.overlay === "quit" ? `Quit Faultline? ${answers("quit")}` : small} /> : <Screen s={s} ui={ui} cols={cols} rows={rows} progress={progress} />}
    </Box>
  );
}

function Screen(sp: ScreenProps) {
  const { s, ui, rows, cols } = sp;
  const screen = screenOf(s, ui);
  // The game, debrief and dashboard place overlays inside their own layout; the simpler screens give way whole.
  if (screen !== "game" && screen !== "debrief" && screen !== "dashboard") {
    if (ui.overlay === "help") return <Help height={rows - 1} width={cols} scroll={ui.scroll} first={screen === "connecting" || screen === "offline" ? ["screens"] : screen === "intro" && s.you?.watch ? ["watchIntro", "intro"] : [screen]} />;
    if (ui.overlay === "quit") return <Confirm question="Quit Faultline?" scope="quit" />;
  }
  switch (screen) {
    case "connecting":
    case "offline":
      return <Connecting {...sp} />;
    case "lobby":
      return <Lobby {...sp} />;
    case "sandbox":
      return <Sandbox {...sp} />;
    case "intro":
      return <Intro {...sp} />;
    case "game":
      return <Game {...sp} />;
    case "debrief":
      return <Debrief {...sp} />;
    case "dashboard":
      return <Dashboard {...sp} />;
  }
}
