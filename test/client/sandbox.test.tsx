// The sandbox in the client (issue 18, part 4), with ink-testing-library: s in the lobby asks
// for the catalogue and opens the composer, whose rows are the catalogue's words; keys compose
// and c sends the scenario; in a sandbox room e asks the explorer and S names the level file;
// the explorer's answer reaches the status line and the log.
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App, type AppActions } from "../../src/client/App.js";
import { ClientStore } from "../../src/client/client-store.js";
import { composerRows, changeRow, addOp, removeAt } from "../../src/client/model/sandbox.js";
import { handleKey, initialUi } from "../../src/client/model/input.js";
import { reduce, type ClientState } from "../../src/client/model/store.js";
import { sandboxCatalogue } from "../../src/level/sandbox.js";
import type { ClientMessageInput } from "../../src/protocol/client.js";
import { clientIn, clientInLobby, clientInSandbox, ME, URL } from "./fixtures.js";
import { frameHas, inputReady, until } from "./ink.js";

const cat = sandboxCatalogue();
const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function mount(state: ClientState, size = { cols: 100, rows: 40 }) {
  const store = new ClientStore(URL, state);
  const sent: ClientMessageInput[] = [];
  const actions: AppActions = {
    send: (m) => {
      sent.push(m);
      return true;
    },
    rename: () => {},
    left: () => {},
    flash: () => {},
    quit: () => {},
  };
  const r = render(<App store={store} actions={actions} progress={{}} size={size} />);
  mounted.push(r);
  return { ...r, store, sent };
}

/** A client in a room on the catalogue's example scenario, holding both CPUs, after `start`. */
const inSandboxRoom = (): ClientState => clientInSandbox([{ kind: "start" }], { mine: [0, 1] });

const DOWN = "\u001B[B";
const RIGHT = "\u001B[C";

describe("the composer", () => {
  it("s asks for the catalogue, the composer draws it, keys change and add parts, and c sends the scenario", async () => {
    const app = mount(clientInLobby());
    await inputReady(app.stdin);
    app.stdin.write("s");
    await until(() => app.sent.length === 1, "the catalogue request");
    expect(app.sent[0]).toEqual({ type: "sandbox" });
    await frameHas(app.lastFrame, "Asking the server for the sandbox catalogue…");
    app.store.dispatch({ kind: "message", msg: { type: "sandbox", catalogue: cat } });
    await frameHas(app.lastFrame, /▸ Kernel +◂ 4\.19 ▸/);
    const f = app.lastFrame()!;
    expect(f).toContain("FAULTLINE · Sandbox: compose a scenario, then hunt in it with every oracle watching");
    expect(f).toContain("2 of at most 3 CPUs · 3 of at most 6 operations (3 a CPU) · 13 oracles watch");
    expect(f).toContain("4.19: a write fault reuses a page mapped once (mapcount)");
    expect(f).toMatch(/CPU1 runs in +◂ C ▸/);
    expect(f).toMatch(/1\. +◂ vmsplice ▸/);
    expect(f).toContain("↑↓ part · ←→ change it · Enter on + adds · x remove · c create the room");

    app.stdin.write(RIGHT); // the kernel: 4.19 -> 5.8
    await frameHas(app.lastFrame, /▸ Kernel +◂ 5\.8 ▸/);
    expect(app.lastFrame()).toContain("5.8: a write fault reuses a page mapped once (mapcount); GUP breaks COW first");
    app.stdin.write(DOWN);
    app.stdin.write(RIGHT); // the machine: x86 -> arm64
    await frameHas(app.lastFrame, /▸ Machine +◂ arm64 ▸/);
    expect(app.lastFrame()).toContain("arm64: a TLB shootdown is a broadcast TLBI instruction; nobody acks");
    app.stdin.write("c");
    await until(() => app.sent.length === 2, "the createSandbox request");
    expect(app.sent[1]).toEqual({ type: "createSandbox", scenario: { ...cat.example, generation: "5.8", machine: "arm64" } });
  });

  it("the rows edit the scenario as the catalogue allows: ops cycle with their arguments, + adds, x removes", () => {
    const sc = cat.example;
    const rows = composerRows(cat, sc);
    const store = rows.find((r) => r.kind === "op" && r.cpu === 0)!;
    const next = changeRow(cat, sc, store, 1);
    const after = cat.operations[cat.operations.findIndex((o) => o.op === "store") + 1].op;
    expect(next.cpus[0].runs[0].op).toBe(after);
    const page = rows.find((r) => r.kind === "arg" && r.cpu === 0 && r.arg === "page")!;
    expect(changeRow(cat, sc, page, 1).cpus[0].runs[0].args).toEqual({ page: 1, value: "x" });
    expect(changeRow(cat, sc, page, -1).cpus[0].runs[0].args).toEqual({ page: 4, value: "x" });
    const added = addOp(cat, sc, 0);
    expect(added.cpus[0].runs).toEqual([...sc.cpus[0].runs, { op: "load", args: { page: 0 } }]);
    expect(removeAt(added, composerRows(cat, added).find((r) => r.kind === "op" && r.cpu === 0 && r.op === 1)!)!.cpus[0].runs).toEqual(sc.cpus[0].runs);
    // The last operation of a CPU stays; a CPU goes with x on its process row.
    expect(removeAt(sc, store)).toBeNull();
    expect(removeAt(sc, rows.find((r) => r.kind === "process" && r.cpu === 1)!)!.cpus).toHaveLength(1);
  });

  it("b goes back to the lobby; the composer keeps nothing the server did not send", () => {
    const ctx = { s: { ...clientInLobby(), sandbox: cat } };
    const open = handleKey(ctx, initialUi, { input: "s" });
    expect(open.send).toEqual([]); // the catalogue is already here
    expect(open.ui.composer).toEqual({ scenario: null, row: 0 });
    expect(handleKey(ctx, open.ui, { input: "b" }).ui.composer).toBeNull();
  });
});

describe("a sandbox room", () => {
  it("e asks the explorer, whose answer shows on the status line; S names the level file and sends saveSandbox", async () => {
    const app = mount(inSandboxRoom());
    await frameHas(app.lastFrame, "e explorer · S save as a level file");
    await inputReady(app.stdin);
    app.stdin.write("e");
    await until(() => app.sent.length === 1, "an explore request");
    expect(app.sent[0]).toEqual({ type: "explore" });
    const text = "The explorer: from here 1 of the 13 oracles watched can still fire: COW broke the wrong way (cow-isolation) in 0 preemptions. It does not say how.";
    const game = app.store.get().game!;
    app.store.dispatch({
      kind: "message",
      msg: { type: "explorer", by: ME, attempt: game.attempt, seq: 1, watched: 13, text, oracles: [{ id: "cow-isolation", title: "COW broke the wrong way", preemptions: 0 }] },
    });
    await frameHas(app.lastFrame, "• The explorer: from here 1 of the 13 oracles watched can still fire");
    expect(app.store.get().log.at(-1)).toMatchObject({ kind: "hint", text });

    app.stdin.write("S");
    await frameHas(app.lastFrame, "Save the scenario as level id: ▏ (the file is ID.yaml in this folder; Enter saves, Esc cancels)");
    app.stdin.write("my-lab");
    await frameHas(app.lastFrame, "Save the scenario as level id: my-lab▏");
    app.stdin.write("\r");
    await until(() => app.sent.length === 2, "a saveSandbox request");
    expect(app.sent[1]).toEqual({ type: "saveSandbox", id: "my-lab" });
  });

  it("another member's question shows who asked; an answer about an earlier attempt is not shown", () => {
    const st = inSandboxRoom();
    const game = st.game!;
    const asked = reduce(st, { kind: "message", msg: { type: "explorer", by: "ada-1", attempt: game.attempt, seq: 1, watched: 13, text: "The explorer: from here none of the 13 oracles watched can fire, whatever the schedule. Rewind or reset.", oracles: [] } });
    expect(asked.log.at(-1)!.text).toMatch(/\(asked by ada-1\)$/);
    const stale = reduce(st, { kind: "message", msg: { type: "explorer", by: ME, attempt: "OTHER0-9", seq: 1, watched: 13, text: "old", oracles: [] } });
    expect(stale).toBe(st);
  });

  it("outside the sandbox, e and S are not the sandbox's keys: they send nothing", () => {
    const s = clientIn("basics-lost-update", [{ kind: "start" }]);
    const ui = { ...initialUi, introDone: s.game!.attempt };
    expect(handleKey({ s }, ui, { input: "e" }).send).toEqual([]);
    expect(handleKey({ s }, ui, { input: "S" })).toMatchObject({ send: [], ui: { input: null } });
  });
});
