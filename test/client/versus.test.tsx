// Versus in the client: the lobby shows the mode and creates a versus room for
// a versus level, the intro lets the player pick a CPU (and so a side), the game
// shows each CPU's side, and the debrief names the winner. The level is the test
// fixture test/fixtures/versus-lost-update.yaml (T0 red, T1 blue), appended to
// the campaign by ./fixtures.ts.

import { levelInfo } from "../../src/game/view.js";
import { renderToString } from "ink";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App, type AppActions } from "../../src/client/App.js";
import { claimFor, goalSentence, seatLabels, topBar, winnerLines } from "../../src/client/model/game.js";
import { keyBar } from "../../src/client/model/help.js";
import { autoMessages, handleKey, initialUi, screenOf, type UiState } from "../../src/client/model/input.js";
import type { ClientState } from "../../src/client/model/store.js";
import { ClientStore } from "../../src/client/client-store.js";
import { Debrief } from "../../src/client/screens/Debrief.js";
import { Game } from "../../src/client/screens/Game.js";
import { Intro } from "../../src/client/screens/Intro.js";
import { Lobby } from "../../src/client/screens/Lobby.js";
import type { ScreenProps } from "../../src/client/screens/props.js";
import type { ClientMessageInput } from "../../src/protocol/client.js";
import { clientIn, clientInLobby, level, levels, ME, roomInfo, step, URL, VERSUS } from "./fixtures.js";
import { frameHas, inputReady, until } from "./ink.js";

const RACE = [step(0), step(1), step(0), step(1)];
const SAFE = [step(0), step(0), step(1), step(1)];
const ui = (o: Partial<UiState> = {}): UiState => ({ ...initialUi, ...o });

function props(s: ClientState, u: Partial<UiState> = {}, cols = 120, rows = 40): ScreenProps {
  return { s, ui: { ...initialUi, introDone: s.game?.attempt ?? null, ...u }, cols, rows, progress: {} };
}

const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function mount(state: ClientState) {
  const store = new ClientStore(URL, state);
  const sent: ClientMessageInput[] = [];
  const flashes: string[] = [];
  const actions: AppActions = {
    send: (m) => {
      sent.push(m);
      return true;
    },
    rename: () => {},
    left: () => {},
    flash: (t) => flashes.push(t),
    quit: () => {},
  };
  const r = render(<App store={store} actions={actions} progress={{}} size={{ cols: 120, rows: 40 }} />);
  mounted.push(r);
  return { ...r, store, sent, flashes };
}

describe("the lobby", () => {
  it("shows each level's mode and a versus level's sides", () => {
    const s = clientInLobby();
    const at = levels().findIndex((l) => l.id === VERSUS);
    const out = renderToString(<Lobby {...props(s, { lobbyCursor: at })} />, { columns: 120 });
    expect(out).toMatch(/Two CPUs, one counter +hunt +basics/);
    expect(out).toMatch(/Take the lock +defend +basics/);
    expect(out).toMatch(/▸ +\d+\. Red reads, blue writes +versus +basics/);
    expect(out).toContain(`${VERSUS} · 2 CPUs (T0 red, T1 blue) · versus: pick red or blue in the room`);
  });

  it("Enter on a versus level asks for a versus room; on another level it does not", () => {
    const s = clientInLobby();
    const at = levels().findIndex((l) => l.id === VERSUS);
    expect(handleKey({ s }, ui({ lobbyCursor: at }), { input: "", return: true }).send).toEqual([{ type: "create", level: VERSUS, versus: true }]);
    expect(handleKey({ s }, ui({ lobbyCursor: 0 }), { input: "", return: true }).send).toEqual([{ type: "create", level: "basics-lost-update" }]);
  });

  it("in the app: the list says versus, and Enter creates the versus room", async () => {
    const app = mount(clientInLobby());
    await frameHas(app.lastFrame, "Campaign");
    await inputReady(app.stdin);
    const at = levels().findIndex((l) => l.id === VERSUS);
    for (let i = 0; i < at; i++) app.stdin.write("\x1b[B");
    await frameHas(app.lastFrame, /▸ +\d+\. Red reads, blue writes +versus/);
    app.stdin.write("\r");
    await until(() => app.sent.length === 1, "a create request");
    expect(app.sent[0]).toEqual({ type: "create", level: VERSUS, versus: true });
  });
});

describe("claiming a side", () => {
  it("a versus room takes no seat by itself: the player picks one", () => {
    const lobby = clientInLobby();
    expect(autoMessages(lobby, clientIn(VERSUS, [], { mine: [] }), {})).toEqual([]);
    // A plain room still hands out the first free CPU.
    expect(autoMessages(lobby, clientIn("basics-lost-update", [], { mine: [] }), {})).toEqual([{ type: "claim", cpu: 0 }]);
  });

  it("the intro lists the sides; Tab picks a CPU, c claims it for its side, Enter waits for a seat", () => {
    const s = clientIn(VERSUS, [], { mine: [] });
    const u = ui();
    expect(screenOf(s, u)).toBe("intro");
    const out = renderToString(<Intro {...props(s, { introDone: null })} />, { columns: 120 });
    expect(out).toContain("Goal: Red makes it happen: Lost update: an increment was overwritten; blue lets every CPU finish without it.");
    expect(out).toContain("Sides: red makes the race happen, blue keeps every CPU safe to the end.");
    expect(out).toContain("▸ CPU0 T0 (red): free (manual)");
    expect(out).toContain("  CPU1 T1 (blue): free (manual)");
    expect(out).toContain("Pick your side: Tab to a CPU, c to take it; then Enter begins.");
    expect(out).toContain(keyBar("intro", { versus: true, knobs: false }));

    const enter = handleKey({ s }, u, { input: "", return: true });
    expect(enter.send).toEqual([]);
    expect(enter.effects).toEqual([{ kind: "flash", text: "Pick your side first: Tab to a CPU, then c to take it." }]);
    const tab = handleKey({ s }, u, { input: "", tab: true });
    expect(tab.ui.selected).toBe(1);
    expect(handleKey({ s }, tab.ui, { input: "c" }).send).toEqual([{ type: "claim", cpu: 1, side: "blue" }]);
    expect(handleKey({ s }, u, { input: "c" }).send).toEqual([{ type: "claim", cpu: 0, side: "red" }]);
    expect(handleKey({ s }, u, { input: "1" }).ui.selected).toBe(1);
    expect(handleKey({ s }, u, { input: "x" }).effects[0]).toMatchObject({ kind: "flash" });

    const seated = clientIn(VERSUS, [], { mine: [1] });
    expect(renderToString(<Intro {...props(seated, { introDone: null })} />, { columns: 120 })).toContain("Press Enter to begin. You play blue: CPU1.");
    expect(handleKey({ s: seated }, u, { input: "", return: true }).send).toEqual([{ type: "start", seq: 0 }]);
    expect(handleKey({ s: seated }, ui({ selected: 1 }), { input: "x" }).send).toEqual([{ type: "release", cpu: 1 }]);
  });

  it("c names a side: the level's, or on a level without sides the player's own, switching on a CPU they hold", () => {
    const fixed = clientIn(VERSUS, [], { mine: [0] });
    expect(claimFor(fixed.room, ME, 1)).toEqual({ type: "claim", cpu: 1, side: "blue" });
    // basics-lost-update played versus: no fixed sides.
    const free = clientIn("basics-lost-update", [], { mine: [], versus: true });
    expect(claimFor(free.room, ME, 0)).toEqual({ type: "claim", cpu: 0, side: "red" });
    const held = clientIn("basics-lost-update", [], { mine: [0], versus: true });
    expect(held.room!.seats[0].side).toBe("red");
    expect(claimFor(held.room, ME, 0)).toEqual({ type: "claim", cpu: 0, side: "blue" });
    expect(claimFor(held.room, ME, 1)).toEqual({ type: "claim", cpu: 1, side: "red" });
    // Outside versus, no side.
    expect(claimFor(clientIn("basics-lost-update").room, ME, 1)).toEqual({ type: "claim", cpu: 1 });
    const game = clientIn(VERSUS, [step(0)], { mine: [0] });
    expect(handleKey({ s: game }, ui({ selected: 1 }), { input: "c" }).send).toEqual([{ type: "claim", cpu: 1, side: "blue" }]);
  });

  it("in the app: Tab and c in the intro send the claim, and the room's answer shows the side taken", async () => {
    const app = mount(clientIn(VERSUS, [], { mine: [] }));
    await frameHas(app.lastFrame, "Pick your side: Tab to a CPU, c to take it");
    await inputReady(app.stdin);
    app.stdin.write("\t");
    await frameHas(app.lastFrame, "▸ CPU1 T1 (blue): free (manual)");
    app.stdin.write("c");
    await until(() => app.sent.length === 1, "a claim request");
    expect(app.sent[0]).toEqual({ type: "claim", cpu: 1, side: "blue" });
    app.store.dispatch({ kind: "message", msg: { type: "room", room: roomInfo(level(VERSUS), { mine: [1] }) } });
    await frameHas(app.lastFrame, "▸ CPU1 T1 (blue): you");
    expect(app.lastFrame()).toContain("Press Enter to begin. You play blue: CPU1.");
  });
});

describe("the game and the debrief", () => {
  it("the game shows each CPU's side and the player's", () => {
    const s = clientIn(VERSUS, [step(0)], { mine: [0], others: [1] });
    const [l1, l2, l3] = topBar(s.room!, s.game!, s.levels, ME, 0);
    expect(l1).toMatch(/^FAULTLINE · \d+\/\d+ Red reads, blue writes · versus · basics · room K7M2QX$/);
    expect(l2).toBe(`Goal: ${goalSentence("versus", levelInfo(level(VERSUS)).goal)} You play red.`);
    expect(l3).toBe("preemptions 0 · steps 1 · hints 0 used · rewinds 0 · ▸CPU0 T0 (red): you · CPU1 T1 (blue): Ada");
    expect(seatLabels(s.room!, ME).map((x) => x.side)).toEqual(["red", "blue"]);
    const out = renderToString(<Game {...props(s)} />, { columns: 120 });
    expect(out).toContain("▸ CPU0 (T0) [red · you]");
    expect(out).toContain("CPU1 (T1) [blue · Ada]");
  });

  it("the debrief names the winner and whether it was the player's side", () => {
    const red = clientIn(VERSUS, RACE, { mine: [0], others: [1] });
    expect(red.game!.result!.winner).toBe("red");
    const out = renderToString(<Debrief {...props(red)} />, { columns: 120 });
    expect(out).toContain("Red wins: the race happened: counter is 1 after 2 completed increments: an update was lost");
    expect(out).toContain("✓ You played red: you win.");
    const blueSeat = clientIn(VERSUS, RACE, { mine: [1], others: [0] });
    expect(renderToString(<Debrief {...props(blueSeat)} />, { columns: 120 })).toContain("✗ You played blue: red wins this one.");
    const safe = clientIn(VERSUS, SAFE, { mine: [1] });
    expect(safe.game!.result!.winner).toBe("blue");
    expect(winnerLines(safe.game!.result!, ["blue"])).toEqual(["Blue wins: every CPU finished and nothing broke", "✓ You played blue: you win."]);
    expect(winnerLines(safe.game!.result!, [])[1]).toBe("You watched.");
  });
});
