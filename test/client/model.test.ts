// The client's pure layer: the reducer over server messages, the view models
// (machine, listing, timeline, top bar) and the key handling, as plain functions.

import { describe, expect, it } from "vitest";
import { applyCommand } from "../../src/game/session.js";
import { gameView } from "../../src/game/view.js";
import { cpuListing, windowLines } from "../../src/client/model/listing.js";
import { drivable, goalSentence, resultHeadline, seatLabels, topBar } from "../../src/client/model/game.js";
import { autoMessages, handleKey, initialUi, replayTick, screenOf, type UiState } from "../../src/client/model/input.js";
import { gameLayout, tooSmall, wrapLine } from "../../src/client/model/layout.js";
import { BLOCK, machinePanel, RULER } from "../../src/client/model/machine.js";
import { folioLines, lockLines, machineView, pteBlocks, tableViews } from "../../src/game/machineview.js";
import { progressMark, recordAttempts } from "../../src/client/model/progress.js";
import { closeText, errorText, initialState, LOG_LIMIT, reduce, traceLine } from "../../src/client/model/store.js";
import { timelineRows } from "../../src/client/model/timeline.js";
import { _PAGE_CONT, _PAGE_DIRTY, mk_pte } from "../../src/sim/pte.js";
import type { Machine } from "../../src/sim/types.js";
import { compileLevel } from "../../src/level/compile.js";
import { levelInfo } from "../../src/game/view.js";
import { clientIn, clientInLobby, level, ME, play, step, URL } from "./fixtures.js";

const machineOf = (s: ReturnType<typeof clientIn>) => s.game!.machine as unknown as Machine;
const cfgOf = (id: string, knobs: Record<string, string> = {}) => compileLevel(level(id), knobs).cfg;

describe("the reducer", () => {
  it("folds welcome and joined into the lobby and then a room, with the trace on the log", () => {
    const lobby = clientInLobby();
    expect(lobby.player).toEqual({ id: ME, name: "me" });
    expect(lobby.levels[0].id).toBe("basics-lost-update");
    expect(screenOf(lobby, initialUi)).toBe("lobby");

    const s = clientIn("basics-lost-update", [step(0), step(1)]);
    expect(s.room?.code).toBe("K7M2QX");
    expect(s.seq).toBe(2);
    expect(s.trace).toHaveLength(2);
    expect(s.log.map((l) => l.text)).toEqual([
      "Joined room K7M2QX: Two CPUs, one counter",
      "#1 CPU0 (T0) counter_inc: tmp = READ_ONCE(counter);  -> no visible change",
      "#2 CPU1 (T1) counter_inc: tmp = READ_ONCE(counter);  -> no visible change",
    ]);
    expect(screenOf(s, initialUi)).toBe("game");
  });

  it("applies updates in order, follows rewinds, and ignores an update a snapshot already covered", () => {
    const l = level("basics-lost-update");
    let s = clientIn("basics-lost-update", [step(0)]);
    const sess = play(l, [step(0)]);
    const r = applyCommand(l, sess, step(1), 5000, "ada-1");
    const game = gameView(l, r.s, "K7M2QX-1", null);
    s = reduce(s, { kind: "message", msg: { type: "update", seq: 2, event: { ...r.event, by: "ada-1" } as never, game } });
    expect(s.trace.map((t) => t.step)).toEqual([1, 2]);
    expect(s.log.at(-1)?.text).toMatch(/^#2 CPU1 \(T1\) counter_inc: tmp = READ_ONCE\(counter\);.* \[ada-1\]$/);
    const again = reduce(s, { kind: "message", msg: { type: "update", seq: 2, event: { ...r.event, by: "ada-1" } as never, game } });
    expect(again).toBe(s);

    const rw = applyCommand(l, r.s, { kind: "rewind", steps: 1 }, 6000, ME);
    s = reduce(s, { kind: "message", msg: { type: "update", seq: 3, event: { ...rw.event, by: ME } as never, game: gameView(l, rw.s, "K7M2QX-1", null) } });
    expect(s.trace).toHaveLength(1);
    expect(s.game?.rewinds).toBe(1);
    expect(s.log.at(-1)?.text).toBe("You rewound 1 step (back to step 1); rewinds count against the score");
  });

  it("records a finished attempt once, and shows refusals and notices on the status line", () => {
    const s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    expect(s.game?.phase).toBe("over");
    expect(s.finished).toHaveLength(1);
    expect(s.finished[0]).toMatchObject({ level: "basics-lost-update", result: { outcome: "won", score: 1000 } });
    expect(screenOf(s, initialUi)).toBe("debrief");
    const again = reduce(s, { kind: "message", msg: { type: "state", state: { seq: s.seq, room: s.room!, game: s.game!, trace: s.trace, intro: "" } } });
    expect(again.finished).toHaveLength(1);

    const e = reduce(s, { kind: "message", msg: { type: "error", rid: 3, code: "stale-seq", message: "stale action: the room is at seq 5, you sent 4" } });
    expect(e.flash).toEqual({ kind: "error", text: errorText("stale-seq", "") });
    expect(e.flash?.text).toMatch(/moved before your key arrived/);
    const n = reduce(e, { kind: "message", msg: { type: "notice", from: "instructor", text: "Five minutes left" } });
    expect(n.flash).toEqual({ kind: "notice", text: "Instructor: Five minutes left" });
    expect(n.log.at(-1)?.kind).toBe("notice");
  });

  it("bounds the log, and says why a connection ended", () => {
    let s = initialState(URL);
    for (let i = 0; i < LOG_LIMIT + 20; i++) s = reduce(s, { kind: "local", flash: { kind: "info", text: `line ${i}` } });
    expect(s.log).toHaveLength(LOG_LIMIT);
    expect(s.log.at(-1)?.text).toBe(`line ${LOG_LIMIT + 19}`);
    const c = reduce(s, { kind: "close", code: 4001, reason: "", retrying: false });
    expect(c.conn).toBe("closed");
    expect(c.closed).toBe("the server is shutting down");
    expect(screenOf(c, initialUi)).toBe("offline");
    expect(closeText(4999, "odd")).toBe("the connection closed (code 4999): odd");
    expect(reduce(s, { kind: "close", code: 1006, reason: "", retrying: true }).conn).toBe("reconnecting");
  });

  it("a fresh (not resumed) welcome leaves the old room behind", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    const w = reduce(s, { kind: "message", msg: { ...(clientInLobby() && { type: "welcome" }), protocol: 1, player: { id: "p2", name: "me" }, resumed: false, levels: s.levels, limits: { maxPayload: 4096, messagesPerSecond: 20, graceMs: 1 } } });
    expect(w.room).toBeNull();
    expect(w.game).toBeNull();
    expect(screenOf(w, initialUi)).toBe("lobby");
  });
});

describe("the machine view", () => {
  it("draws a PTE table as 16-entry blocks with bits, and marks CONT entries", () => {
    const cont = (pfn: number) => mk_pte(pfn, true) | _PAGE_CONT;
    const ptes = [mk_pte(1, true) | _PAGE_DIRTY, mk_pte(2, false), 0, 0, cont(4), cont(5), cont(6), cont(7), ...new Array(8).fill(0), mk_pte(9, false), ...new Array(15).fill(0)];
    const blocks = pteBlocks(ptes);
    expect(blocks).toHaveLength(2);
    expect(RULER).toBe("0123456789abcdef");
    expect(blocks[0].strip).toBe("wr··wwww········");
    expect(blocks[0].strip).toHaveLength(BLOCK);
    expect(blocks[0].cont).toBe("    ====");
    expect(blocks[0].entries).toEqual(["0: pfn 1 RW D", "1: pfn 2 RO", "4: pfn 4 RW CONT", "5: pfn 5 RW CONT", "6: pfn 6 RW CONT", "7: pfn 7 RW CONT"]);
    expect(blocks[1]).toEqual({ base: 16, strip: "r···············", cont: null, entries: ["16: pfn 9 RO"] });
  });

  it("shows folios with refcount, mapcount, AnonExclusive, pins and data, and who holds each lock", () => {
    // r5-six-steps: A1 pins page 0 read-only (FOLL_PIN) while holding mmap_lock for read.
    const s = clientIn("r5-six-steps", [step(0), step(0), step(0)]);
    const m = machineOf(s);
    const cfg = cfgOf("r5-six-steps");
    expect(lockLines(m, cfg)).toContain("mmap_lock of A: read-held by CPU0 (A1)");
    expect(lockLines(m, cfg).some((l) => /^PTL of table 0: (free|held by CPU0 \(A1\))$/.test(l))).toBe(true);
    const f = folioLines(m, cfg);
    expect(f[0]).toMatch(/^pfn 1: refcount \d+.*, mapcount 1, pins \d, data "hello"$/);
    const t = tableViews(m, cfg);
    expect(t[0].title).toMatch(/^table 0: A pages 0-15, PTL (free|held by CPU0 \(A1\)), refcount 1$/);
    expect(t[0].blocks[0].strip).toBe("w···············");
  });

  it("counts FOLL_PIN references in the folio line once a pin lands", () => {
    const cfg = cfgOf("r5-six-steps");
    let s = clientIn("r5-six-steps");
    // Step A1 until a pin appears (bounded by the path length).
    const l = level("r5-six-steps");
    const cmds = [];
    for (let i = 0; i < 40; i++) {
      cmds.push(step(0));
      s = clientIn("r5-six-steps", cmds);
      if (machineOf(s).pins.length) break;
    }
    const m = machineOf(s);
    expect(m.pins).toHaveLength(1);
    expect(l.id).toBe("r5-six-steps");
    expect(folioLines(m, cfg)[0]).toBe('pfn 1: refcount 1025 (pin bias 1 x 1024), mapcount 1, pins 1, data "hello"');
    const v = machineView(m, cfg, s.game!.dma);
    expect(v.pins[0]).toBe('#0 FOLL_PIN by CPU0 (A1) on pfn 1 (A page 0, read-only), saw "hello"');
    expect(v.dma).toMatch(/^DMA device: ready to write "[^"]+" into pfn 1 \(pin #0, A page 0\)$/);
    const panel = machinePanel(v, 60, (t, w) => wrapLine(t, w)).map((x) => x.text);
    expect(panel).toContain("Pins");
    expect(panel.every((x) => [...x].length <= 60)).toBe(true);
  });

  it("names the teaching globals", () => {
    const s = clientIn("basics-lost-update", [step(0), step(0)]);
    expect(machineView(machineOf(s), cfgOf("basics-lost-update"), null).vars).toEqual(["counter = 1", "increments = 1"]);
  });
});

describe("the CPU listing", () => {
  it("shows the whole path with the arrow at the pc, the server's line, and the locals", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    const l = cpuListing(s.game!.cpus[0], s.listings.byPath);
    expect(l.tag).toBe("CPU0 (T0)");
    expect(l.header).toBe("counter_inc() · teaching example (not kernel source)");
    expect(l.lines).toEqual([
      { n: 0, text: "tmp = READ_ONCE(counter);", at: false },
      { n: 1, text: "WRITE_ONCE(counter, tmp + 1);", at: true },
    ]);
    expect(l.locals).toBe("tmp=0");
    expect(l.status).toBe("▶ ready");
  });

  it("before a CPU starts, shows the path it will enter with the arrow on its first line", () => {
    const s = clientIn("basics-lost-update");
    const l = cpuListing(s.game!.cpus[1], s.listings.byPath);
    expect(l.upcoming).toBe(true);
    expect(l.lines[0]).toEqual({ n: 0, text: "tmp = READ_ONCE(counter);", at: true });
  });

  it("lists a syscall menu's choices with the line each starts at", () => {
    const s = clientIn("basics-fork-cow");
    const cpu = s.game!.cpus[1];
    expect(cpu.state).toBe("menu");
    const l = cpuListing(cpu, s.listings.byPath);
    expect(l.choices.map((c) => c.label)).toEqual(cpu.choices);
    expect(l.choices.every((c) => c.first.length > 0)).toBe(true);
    expect(l.status).toMatch(/^◆ at a syscall menu: /);
  });

  it("says in kernel terms why a CPU cannot run", () => {
    // basics-spinlock with the lock: CPU0 takes counter_lock, CPU1 spins on it.
    const s = clientIn("basics-spinlock", [{ kind: "knob", knob: "lock", value: "spin_lock" }, step(0), step(1)]);
    const l = cpuListing(s.game!.cpus[1], s.listings.byPath);
    expect(l.state).toBe("blocked");
    expect(l.status).toBe("■ cannot run: spinning on counter_lock, held by CPU0 (T0)");
  });

  it("falls back to the server's current line when no listing of the path has arrived", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    const l = cpuListing(s.game!.cpus[0], {});
    expect(l.lines).toEqual([{ n: 1, text: "WRITE_ONCE(counter, tmp + 1);", at: true }]);
  });

  it("windows a long listing around the arrow", () => {
    const lines = Array.from({ length: 30 }, (_, n) => ({ n, text: `line ${n}`, at: n === 20 }));
    const w = windowLines(lines, 9);
    expect(w.lines).toHaveLength(9);
    expect(w.lines.some((l) => l.at)).toBe(true);
    expect(w.above + w.lines.length + w.below).toBe(30);
  });
});

describe("the top bar and results", () => {
  it("states the goal in one sentence, steps against par, and who holds each CPU", () => {
    const s = clientIn("basics-lost-update", [step(0)], { others: [1] });
    const [l1, l2, l3] = topBar(s.room!, s.game!, s.levels, ME, 0);
    expect(l1).toBe("FAULTLINE · 1/" + s.levels.length + " Two CPUs, one counter · hunt · basics · room K7M2QX");
    expect(l2).toBe("Goal: Make it happen: Lost update: an increment was overwritten.");
    expect(l3).toBe("preemptions 0 / par 1 · steps 1 · hints 0 used · rewinds 0 · ▸CPU0 T0: you · CPU1 T1: Ada");
    expect(goalSentence("defend", levelInfo(level("basics-spinlock")).goal)).toBe("Choose a fix and let every CPU finish, without this: Lost update: an increment was overwritten.");
  });

  it("lets a player drive their CPUs, and free CPUs only in a manual room", () => {
    const manual = clientIn("basics-lost-update", [], { policy: "manual" });
    expect(drivable(manual.room, ME)).toEqual([0, 1]);
    const adv = clientIn("basics-spinlock", [], { policy: "adversary" });
    expect(drivable(adv.room, ME)).toEqual([0]);
    expect(seatLabels(adv.room!, ME).map((x) => x.who)).toEqual(["you", "adversary bot"]);
    expect(drivable(adv.room, "someone-else")).toEqual([]);
    const dma = clientIn("r5-six-steps", [], { policy: "manual" });
    expect(drivable(dma.room, ME)).toEqual([0, 1, 2, "dma"]);
  });

  it("headlines a win, a safe finish, and an unsafe fix", () => {
    const won = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]).game!.result!;
    expect(resultHeadline(won, "hunt")).toBe("✓ You broke it: counter is 1 after 2 completed increments: an update was lost");
    const safe = clientIn("basics-lost-update", [step(0), step(0), step(1), step(1)]).game!.result!;
    expect(resultHeadline(safe, "hunt")).toMatch(/^✗ Every CPU finished and nothing broke/);
    const unsafe = clientIn("basics-spinlock", [step(0), step(0), step(1), step(1)]).game!.result!;
    expect(unsafe.reason).toBe("unsafe-fix");
    expect(resultHeadline(unsafe, "defend")).toBe("✗ Every CPU finished, but the fix is unsafe: the explorer found a schedule that breaks it: 0 1 0 1.");
  });
});

describe("the timeline", () => {
  it("draws one lane per CPU and one column per step, marking the breaking step", () => {
    const s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    const t = timelineRows(s.trace, ["CPU0 T0", "CPU1 T1"], false, 4, 80);
    expect(t.header).toBe("        1     4");
    expect(t.lanes.map((l) => l.label + l.cells)).toEqual(["CPU0 T0 · ● ● ·", "CPU1 T1 ● · · ✖"]);
    expect(t.marker).toBe("              ▲");
    expect(t.hiddenBefore + t.hiddenAfter).toBe(0);
  });

  it("marks spins, adds a DMA lane, and keeps the replay cursor in view on a long trace", () => {
    const s = clientIn("basics-spinlock", [{ kind: "knob", knob: "lock", value: "spin_lock" }, step(0), step(1), step(1)]);
    const t = timelineRows(s.trace, ["CPU0 T0", "CPU1 T1"], true, null, 80);
    expect(t.lanes[1].cells).toBe("· ~ ~");
    expect(t.lanes[2].label.trim()).toBe("DMA");
    const long = Array.from({ length: 100 }, (_, i) => ({ ...s.trace[0], step: i + 1 }));
    const w = timelineRows(long, ["CPU0 T0", "CPU1 T1"], false, 90, 40, 10);
    expect(w.lanes[0].cells.split(" ")).toHaveLength(16);
    expect(w.hiddenBefore).toBeLessThan(10);
    expect(w.marker).toContain("^");
  });
});

describe("keys", () => {
  const ui = (o: Partial<UiState> = {}): UiState => ({ ...initialUi, ...o });

  it("Space steps the selected CPU at the seq the player saw; Tab moves between drivable CPUs", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    expect(handleKey({ s }, ui(), { input: " " }).send).toEqual([{ type: "step", seq: 1, cpu: 0 }]);
    const t = handleKey({ s }, ui(), { input: "", tab: true });
    expect(t.ui.selected).toBe(1);
    expect(handleKey({ s }, t.ui, { input: " " }).send).toEqual([{ type: "step", seq: 1, cpu: 1 }]);
    expect(handleKey({ s }, t.ui, { input: "", tab: true }).ui.selected).toBe(0);
    expect(handleKey({ s }, t.ui, { input: "", tab: true, shift: true }).ui.selected).toBe(0);
  });

  it("Enter runs the selected CPU to its next decision; at a menu, Enter's pick runs and Space's pick steps", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    expect(handleKey({ s }, ui(), { input: "", return: true }).send).toEqual([{ type: "run", seq: 1, cpu: 0 }]);
    const menu = clientIn("basics-fork-cow", []);
    const cpu = menu.game!.cpus.findIndex((c) => c.state === "menu");
    expect(cpu).toBeGreaterThanOrEqual(0);
    const seen = { introDone: menu.game!.attempt };
    const open = handleKey({ s: menu }, ui({ selected: cpu, ...seen }), { input: "", return: true });
    expect(open.ui).toMatchObject({ overlay: "menu", menuRun: true });
    const choice = menu.game!.cpus[cpu].choices![0];
    expect(handleKey({ s: menu }, open.ui, { input: "1" }).send).toEqual([{ type: "run", seq: 0, cpu, choice }]);
    const space = handleKey({ s: menu }, ui({ selected: cpu, ...seen }), { input: " " });
    expect(space.ui.menuRun).toBe(false);
    expect(handleKey({ s: menu }, space.ui, { input: "1" }).send).toEqual([{ type: "step", seq: 0, cpu, choice }]);
  });

  it("h, u, c, x, d and R ask the server; R confirms first", () => {
    const s = clientIn("r5-six-steps", [step(0)]);
    expect(handleKey({ s }, ui(), { input: "h" }).send).toEqual([{ type: "hint", seq: 1 }]);
    expect(handleKey({ s }, ui(), { input: "u" }).send).toEqual([{ type: "rewind", seq: 1, steps: 1 }]);
    expect(handleKey({ s }, ui({ selected: 2 }), { input: "c" }).send).toEqual([{ type: "claim", cpu: 2 }]);
    expect(handleKey({ s }, ui(), { input: "x" }).send).toEqual([{ type: "release", cpu: 0 }]);
    expect(handleKey({ s }, ui(), { input: "d" }).send).toEqual([{ type: "step", seq: 1, cpu: "dma" }]);
    const r = handleKey({ s }, ui(), { input: "R" });
    expect(r.send).toEqual([]);
    expect(r.ui.overlay).toBe("reset");
    expect(handleKey({ s }, r.ui, { input: "y" }).send).toEqual([{ type: "reset", seq: 1 }]);
    expect(handleKey({ s }, r.ui, { input: "", escape: true }).ui.overlay).toBeNull();
  });

  it("a key opens the syscall menu where the CPU has a choice, and a choice steps with it", () => {
    const s = clientIn("basics-fork-cow");
    const open = handleKey({ s }, ui({ selected: 1, introDone: s.game!.attempt }), { input: " " });
    expect(open.send).toEqual([]);
    expect(open.ui.overlay).toBe("menu");
    const choices = s.game!.cpus[1].choices!;
    const down = handleKey({ s }, open.ui, { input: "", downArrow: true });
    expect(handleKey({ s }, down.ui, { input: "", return: true }).send).toEqual([{ type: "step", seq: 0, cpu: 1, choice: choices[1] }]);
    expect(handleKey({ s }, open.ui, { input: "1" }).send).toEqual([{ type: "step", seq: 0, cpu: 1, choice: choices[0] }]);
    expect(handleKey({ s }, open.ui, { input: "", escape: true }).ui.overlay).toBeNull();
    expect(handleKey({ s }, ui({ selected: 0, introDone: s.game!.attempt }), { input: "m" }).effects).toEqual([{ kind: "flash", text: "CPU0 (A1) has no syscall menu right now." }]);
  });

  it("? opens help, Esc closes it; q asks and y quits, n stays", () => {
    const s = clientIn("basics-lost-update");
    const h = handleKey({ s }, ui(), { input: "?" });
    expect(h.ui.overlay).toBe("help");
    expect(handleKey({ s }, h.ui, { input: " " }).send).toEqual([]);
    expect(handleKey({ s }, h.ui, { input: "", escape: true }).ui.overlay).toBeNull();
    const q = handleKey({ s }, ui(), { input: "q" });
    expect(q.ui.overlay).toBe("quit");
    expect(q.effects).toEqual([]);
    expect(handleKey({ s }, q.ui, { input: "y" }).effects).toEqual([{ kind: "exit" }]);
    expect(handleKey({ s }, q.ui, { input: "n" }).ui.overlay).toBeNull();
    expect(handleKey({ s }, ui(), { input: "c", ctrl: true }).effects).toEqual([{ kind: "exit" }]);
  });

  it("the lobby creates the selected level with the chosen bots, joins by code, and renames", () => {
    const s = clientInLobby();
    const down = handleKey({ s }, ui(), { input: "", downArrow: true });
    const p = handleKey({ s }, down.ui, { input: "p" });
    expect(p.ui.policy).toBe("manual");
    expect(handleKey({ s, workshop: "ABCDEFGH", team: "red" }, p.ui, { input: "", return: true }).send).toEqual([
      { type: "create", level: s.levels[1].id, policy: "manual", workshop: "ABCDEFGH", team: "red" },
    ]);
    let j = handleKey({ s }, ui(), { input: "j" });
    for (const ch of "k7m2qx") j = handleKey({ s }, j.ui, { input: ch });
    expect(j.ui.input).toEqual({ field: "code", text: "k7m2qx" });
    expect(handleKey({ s }, j.ui, { input: "q" }).ui.input?.text).toBe("k7m2qx"); // q types while typing, and the code is 6 long
    expect(handleKey({ s }, j.ui, { input: "", return: true }).send).toEqual([{ type: "join", room: "K7M2QX" }]);
    let n = handleKey({ s }, ui(), { input: "n" });
    n = handleKey({ s }, n.ui, { input: "", backspace: true });
    n = handleKey({ s }, n.ui, { input: "Z" });
    expect(handleKey({ s }, n.ui, { input: "", return: true }).effects).toEqual([{ kind: "rename", name: "mZ" }]);
  });

  it("the intro starts the level and sets a defend level's fix", () => {
    const s = clientIn("basics-spinlock", [], { policy: "adversary" });
    expect(screenOf(s, ui())).toBe("intro");
    expect(handleKey({ s }, ui(), { input: "", rightArrow: true }).send).toEqual([{ type: "knob", seq: 0, knob: "lock", value: "spin_lock" }]);
    expect(handleKey({ s }, ui(), { input: "1" }).send).toEqual([]); // already chosen
    const go = handleKey({ s }, ui(), { input: "", return: true });
    expect(go.send).toEqual([{ type: "start", seq: 0 }]);
    expect(screenOf(s, go.ui)).toBe("game");
  });

  it("the debrief retries, moves on, replays, and shows the final machine", () => {
    const s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    expect(handleKey({ s }, ui(), { input: "r" }).send).toEqual([{ type: "retry", seq: 4 }]);
    expect(handleKey({ s }, ui(), { input: "n" }).send).toEqual([{ type: "next", seq: 4 }]);
    const p = handleKey({ s }, ui(), { input: "p" });
    expect(p.ui.replay).toEqual({ at: 1, playing: true });
    let u = p.ui;
    for (let i = 0; i < 10; i++) u = replayTick(u, 4);
    expect(u.replay).toEqual({ at: 4, playing: false });
    expect(handleKey({ s }, u, { input: "", leftArrow: true }).ui.replay).toEqual({ at: 3, playing: false });
    const g = handleKey({ s }, ui(), { input: "g" });
    expect(screenOf(s, g.ui)).toBe("game");
    expect(screenOf(s, handleKey({ s }, g.ui, { input: "g" }).ui)).toBe("debrief");
  });

  it("the dashboard pauses, announces and releases hints with the instructor's token", () => {
    const base = clientInLobby();
    const s = {
      ...base,
      workshop: { id: "ABCDEFGH", title: "Class", token: "x".repeat(43) },
      dashboard: {
        workshop: { id: "ABCDEFGH", title: "Class", paused: false },
        teams: [{ room: "K7M2QX", team: "red", level: "basics-lost-update", attempt: "K7M2QX-1", phase: "play" as const, steps: 2, hintsUsed: 0, rewinds: 0, outcome: null, score: null, totalScore: 0, finished: 0, members: 2, connected: 2 }],
      },
    };
    const ctx = { s, instructor: { id: "ABCDEFGH", token: "x".repeat(43) } };
    const d = ui({ dashboard: true });
    expect(screenOf(s, d)).toBe("dashboard");
    expect(handleKey(ctx, d, { input: "p" }).send).toEqual([{ type: "pauseWorkshop", workshop: "ABCDEFGH", token: "x".repeat(43) }]);
    expect(handleKey(ctx, d, { input: "h" }).send).toEqual([{ type: "releaseHint", workshop: "ABCDEFGH", token: "x".repeat(43), room: "K7M2QX" }]);
    expect(handleKey(ctx, d, { input: "H" }).send).toEqual([{ type: "releaseHint", workshop: "ABCDEFGH", token: "x".repeat(43) }]);
    let a = handleKey(ctx, d, { input: "a" });
    for (const ch of "Hi") a = handleKey(ctx, a.ui, { input: ch });
    expect(handleKey(ctx, a.ui, { input: "", return: true }).send).toEqual([{ type: "announce", workshop: "ABCDEFGH", token: "x".repeat(43), text: "Hi" }]);
  });

  it("takes a free CPU on entering a room, joins the room named on the command line, and watches a new workshop", () => {
    const lobby = clientInLobby();
    const before = initialState(URL);
    expect(autoMessages(before, lobby, { room: "k7m2qx" })).toEqual([{ type: "join", room: "K7M2QX" }]);
    const inRoom = clientIn("basics-lost-update", [], { mine: [] });
    expect(autoMessages(lobby, inRoom, {})).toEqual([{ type: "claim", cpu: 0 }]);
    const seated = clientIn("basics-lost-update", [], { mine: [1] });
    expect(autoMessages(lobby, seated, {})).toEqual([]);
    // A seat that could not be resumed: the fresh welcome clears the room, and the client joins it again by code.
    const fresh = { ...inRoom, room: null, game: null, you: null, player: { id: "new-id", name: "me" } };
    expect(autoMessages(inRoom, fresh, {})).toEqual([{ type: "join", room: "K7M2QX" }]);
    const ws = { ...lobby, workshop: { id: "ABCDEFGH", title: "t", token: "y".repeat(43) } };
    expect(autoMessages(lobby, ws, {})).toEqual([{ type: "watchWorkshop", workshop: "ABCDEFGH", token: "y".repeat(43) }]);
  });
});

describe("layout", () => {
  it("says plainly when the terminal is too small", () => {
    expect(tooSmall(120, 40)).toBeNull();
    expect(tooSmall(70, 30)).toMatch(/^The terminal is 70×30; Faultline needs at least 80×24/);
  });

  it("keeps the game screen shorter than the terminal", () => {
    for (const [c, r] of [
      [80, 24],
      [120, 40],
      [200, 60],
    ]) {
      const g = gameLayout(c, r);
      expect(3 + g.bodyH + 1 + g.logH + 1 + 1).toBeLessThan(r);
    }
    expect(gameLayout(120, 40).twoCol).toBe(true);
    expect(gameLayout(80, 24).twoCol).toBe(false);
  });

  it("wraps at separators", () => {
    expect(wrapLine("pfn 1: refcount 2, mapcount 1", 20)).toEqual(["pfn 1: refcount 2,", "  mapcount 1"]);
    expect(wrapLine("pfn 1 · refcount 2 · mapcount 1", 20)).toEqual(["pfn 1 · refcount 2 ·", "  mapcount 1"]);
    expect(wrapLine("abcdefghijklmnopqrstuvwxyz", 10)).toEqual(["abcdefghij", "  klmnopqr", "  stuvwxyz"]);
    expect(wrapLine("short", 20)).toEqual(["short"]);
  });
});

describe("progress", () => {
  it("marks won levels and keeps the best score", () => {
    const won = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]).finished[0];
    let p = recordAttempts({}, [won], new Set());
    expect(p["basics-lost-update"]).toEqual({ won: true, best: 1000, played: 1 });
    p = recordAttempts(p, [{ ...won, attempt: "X-2", result: { ...won.result, score: 700 } }], new Set());
    expect(p["basics-lost-update"]).toEqual({ won: true, best: 1000, played: 2 });
    expect(recordAttempts(p, [won], new Set([won.attempt]))).toBe(p);
    expect(progressMark(p["basics-lost-update"])).toBe("✓");
    expect(progressMark({ won: false, best: null, played: 1 })).toBe("◐");
    expect(progressMark(undefined)).toBe(" ");
  });
});

describe("the event log's lines", () => {
  it("name who stepped when it was not this player", () => {
    const s = clientIn("basics-lost-update", [step(0)], { others: [1] });
    expect(traceLine({ ...s.trace[0], by: "bot" }, s.room, ME)).toMatch(/\[the bot\]$/);
    expect(traceLine({ ...s.trace[0], by: "ada-1" }, s.room, ME)).toMatch(/\[Ada\]$/);
    expect(traceLine(s.trace[0], s.room, ME)).not.toMatch(/\[/);
  });
});

describe("log and refusals", () => {
  it("folds a repeated identical line into one with a count", async () => {
    const { reduce, initialState } = await import("../../src/client/model/store.js");
    let s = initialState("ws://127.0.0.1:1/");
    const err = { type: "error", code: "not-runnable", message: "CPU0 (A1) has finished" };
    for (let i = 0; i < 3; i++) s = reduce(s, { kind: "message", msg: err } as never);
    const same = s.log.filter((l) => l.text.includes("has finished"));
    expect(same).toHaveLength(1);
    expect(same[0].repeat).toBe(3);
  });
});
