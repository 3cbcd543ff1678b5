// The whole Ink app with ink-testing-library: keys in, protocol requests out,
// and the screen following the store as the server's messages arrive.

import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App, type AppActions } from "../../src/client/App.js";
import type { ClientMessageInput } from "../../src/protocol/client.js";
import { gameView } from "../../src/game/view.js";
import { applyCommand } from "../../src/game/session.js";
import { ClientStore } from "../../src/client/client-store.js";
import { clientIn, clientInLobby, level, ME, play, step, URL } from "./fixtures.js";
import { frameHas, inputReady, until } from "./ink.js";
import type { ClientState } from "../../src/client/model/store.js";

const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function mount(state: ClientState, size = { cols: 100, rows: 40 }) {
  const store = new ClientStore(URL, state);
  const sent: ClientMessageInput[] = [];
  const calls = { quit: 0, left: 0, flashes: [] as string[] };
  const actions: AppActions = {
    send: (m) => {
      sent.push(m);
      return true;
    },
    rename: () => {},
    left: () => calls.left++,
    flash: (t) => calls.flashes.push(t),
    quit: () => calls.quit++,
  };
  const r = render(<App store={store} actions={actions} progress={{}} size={size} />);
  mounted.push(r);
  return { ...r, store, sent, calls };
}

describe("the app", () => {
  it("Space sends a step for my CPU, and the screen follows the update the server sends back", async () => {
    const l = level("basics-lost-update");
    const s0 = play(l, [{ kind: "start" }]);
    const app = mount(clientIn("basics-lost-update", [{ kind: "start" }]));
    await frameHas(app.lastFrame, "▸ CPU0 (T0) [you]");
    await inputReady(app.stdin);
    app.stdin.write(" ");
    await until(() => app.sent.length === 1, "a step request");
    expect(app.sent[0]).toEqual({ type: "step", seq: 1, cpu: 0 });

    const r = applyCommand(l, s0, step(0), 2000, ME);
    app.store.dispatch({ kind: "message", msg: { type: "update", seq: 2, event: { ...r.event, by: ME } as never, game: gameView(l, r.s, "K7M2QX-1", null) } });
    await frameHas(app.lastFrame, "#1 CPU0 (T0) counter_inc: tmp = READ_ONCE(counter);");
    expect(app.lastFrame()).toContain("→ WRITE_ONCE(counter, tmp + 1);");
    expect(app.lastFrame()).toContain("preemptions 0 / par 1 · steps 1");
  });

  it("Tab moves to the next CPU I may drive, ? opens the help and Esc closes it", async () => {
    const app = mount(clientIn("basics-lost-update", [step(0)]));
    await inputReady(app.stdin);
    app.stdin.write("\t");
    await frameHas(app.lastFrame, "▸ CPU1 (T1) [manual]");
    app.stdin.write("?");
    await frameHas(app.lastFrame, "Help (Esc or ? closes)");
    app.stdin.write("\x1b");
    await frameHas(app.lastFrame, "▸ CPU1 (T1) [manual]");
    expect(app.lastFrame()).not.toContain("Help (Esc or ? closes)");
    app.stdin.write(" ");
    await until(() => app.sent.length === 1, "a step request").catch((e) => {
      throw new Error(`${e}\n${JSON.stringify(app.calls)}\n${app.lastFrame()}`);
    });
    expect(app.sent[0]).toEqual({ type: "step", seq: 1, cpu: 1 });
  });

  it("q asks before quitting; n stays, y quits", async () => {
    const app = mount(clientInLobby());
    await frameHas(app.lastFrame, "Campaign");
    await inputReady(app.stdin);
    app.stdin.write("q");
    await frameHas(app.lastFrame, "Quit Faultline?");
    app.stdin.write("n");
    await frameHas(app.lastFrame, "Campaign");
    expect(app.calls.quit).toBe(0);
    app.stdin.write("q");
    await frameHas(app.lastFrame, "Quit Faultline?");
    app.stdin.write("y");
    await until(() => app.calls.quit === 1, "the quit action");
  });

  it("the lobby's Enter creates a room for the level under the cursor", async () => {
    const app = mount(clientInLobby());
    await frameHas(app.lastFrame, "▸    1. Two CPUs, one counter");
    await inputReady(app.stdin);
    app.stdin.write("\x1b[B");
    await frameHas(app.lastFrame, "▸    2. Take the lock");
    app.stdin.write("\r");
    await until(() => app.sent.length === 1, "a create request");
    expect(app.sent[0]).toEqual({ type: "create", level: "basics-spinlock" });
  });

  it("the debrief appears when the attempt ends, and r asks for a retry", async () => {
    const app = mount(clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]));
    await frameHas(app.lastFrame, "✓ You broke it");
    await inputReady(app.stdin);
    app.stdin.write("r");
    await until(() => app.sent.length === 1, "a retry request");
    expect(app.sent[0]).toEqual({ type: "retry", seq: 4 });
  });

  it("while the terminal is too small, says so and takes no game keys, but still quits", async () => {
    const app = mount(clientIn("basics-lost-update", [step(0)]), { cols: 70, rows: 20 });
    await frameHas(app.lastFrame, "The terminal is 70×20; Faultline needs at least 80×24.");
    await inputReady(app.stdin);
    app.stdin.write(" ");
    app.stdin.write("q");
    await frameHas(app.lastFrame, "Quit Faultline? y yes · n or Esc no");
    expect(app.sent).toEqual([]);
    app.stdin.write("y");
    await until(() => app.calls.quit === 1, "the quit action");
  });

  it("every screen fills the terminal, so Ink redraws whole frames and a resize that reflows lines leaves nothing stale", async () => {
    for (const [state, size] of [
      [clientInLobby(), { cols: 100, rows: 40 }],
      [clientIn("basics-lost-update", [step(0)]), { cols: 120, rows: 30 }],
      [clientIn("basics-lost-update", [step(0)]), { cols: 70, rows: 20 }],
    ] as const) {
      const app = mount(state, size);
      await until(() => (app.lastFrame() ?? "").length > 0, "a frame");
      expect(app.lastFrame()!.split("\n")).toHaveLength(size.rows);
      app.unmount();
    }
  });

  it("a pasted room code arrives whole, with its Enter (Ink hands a paste over as one chunk)", async () => {
    const app = mount(clientInLobby());
    await frameHas(app.lastFrame, "Campaign");
    await inputReady(app.stdin);
    app.stdin.write("j");
    await frameHas(app.lastFrame, "Room code");
    app.stdin.write("abc123\r");
    await until(() => app.sent.length === 1, "a join request");
    expect(app.sent[0]).toEqual({ type: "join", room: "ABC123" });
  });
});
