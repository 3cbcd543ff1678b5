// The client's side of talk (issue 17): the guard over every string a server
// sends, the fold of chat, marks and plans, the keys (a chat line that gives
// the game's keys back, marking lines, proposing and stepping a plan), and
// what the screens draw of them.

import { renderToString } from "ink";
import { describe, expect, it } from "vitest";
import { makeMark } from "../../src/game/marks.js";
import { makePlan } from "../../src/game/plan.js";
import { newSession } from "../../src/game/session.js";
import { handleKey, initialUi, type UiState } from "../../src/client/model/input.js";
import type { KeyPress } from "../../src/client/model/keys.js";
import { safeDeep, safeText } from "../../src/client/model/safe.js";
import { reduce, type ClientState } from "../../src/client/model/store.js";
import { Dashboard } from "../../src/client/screens/Dashboard.js";
import { Debrief } from "../../src/client/screens/Debrief.js";
import { Game } from "../../src/client/screens/Game.js";
import type { ScreenProps } from "../../src/client/screens/props.js";
import type { ChatEntry, ServerMessage } from "../../src/protocol/server.js";
import { clientIn, level, ME, step } from "./fixtures.js";

const ADA = { id: "ada-1", name: "Ada" };
const msg = (s: ClientState, m: ServerMessage) => reduce(s, { kind: "message", msg: m });
const chat = (n: number, text: string, from = ADA, stepAt = 0, attempt = "K7M2QX-1"): ServerMessage => ({
  type: "chat",
  entry: { n, attempt, step: stepAt, at: 0, from: from.id, name: from.name, text },
});
const key = (input: string, extra: Partial<KeyPress> = {}): KeyPress => ({ input, ...extra });

function press(s: ClientState, ui: UiState, ...keys: KeyPress[]) {
  const sent: unknown[] = [];
  for (const k of keys) {
    const out = handleKey({ s }, ui, k);
    ui = out.ui;
    sent.push(...out.send);
  }
  return { ui, sent };
}

function props(s: ClientState, ui: Partial<UiState> = {}): ScreenProps {
  return { s, ui: { ...initialUi, introDone: s.game?.attempt ?? null, ...ui }, cols: 120, rows: 40, progress: {} };
}

describe("the client's guard", () => {
  it("shows every control as its picture and every invisible format character as U+FFFD, keeping line breaks", () => {
    expect(safeText("\u001b]0;t\u0007x\u001b[2J")).toBe("␛]0;t␇x␛[2J");
    expect(safeText("a\u202Eb\u200Bc\u2066d\uFEFF\u009b")).toBe("a�b�c�d��");
    expect(safeText("line\nnext\ttab\u007f")).toBe("line\nnext␉tab␡");
    const plain = { a: ["x", { b: "y" }] };
    expect(safeDeep(plain)).toBe(plain); // nothing to change: the same object, not a copy
    expect(safeDeep({ a: ["x", { "k\u001b": "\u001b" }] })).toEqual({ a: ["x", { "k␛": "␛" }] });
  });

  it("applies to every message the client folds: a hostile name in a room and a raw chat arrive disarmed", () => {
    let s = clientIn("basics-lost-update", [step(0)], { others: [1] });
    const room = { ...s.room!, members: s.room!.members.map((m) => (m.id === ME ? m : { ...m, name: "\u001b]0;x\u0007Ada" })) };
    s = msg(s, { type: "room", room });
    expect(s.room!.members[1].name).toBe("␛]0;x␇Ada");
    s = msg(s, chat(1, "\u001b[2Jhi", { id: "ada-1", name: "A\u202Eda" }));
    expect(s.chat[0]).toMatchObject({ name: "A�da", text: "␛[2Jhi" });
  });
});

describe("the fold", () => {
  it("keeps chat once each, in order, and merges a snapshot's", () => {
    let s = clientIn("basics-lost-update");
    s = msg(s, chat(1, "one"));
    s = msg(s, chat(2, "two"));
    const snap = { ...s, chat: [] } as ClientState;
    expect(snap.chat).toEqual([]);
    // A slow reader's snapshot carries the latest chat, including what it already has.
    const entries: ChatEntry[] = [1, 2, 3].map((n) => (chat(n, ["one", "two", "three"][n - 1]) as { entry: ChatEntry }).entry);
    s = msg(s, { type: "state", state: { seq: s.seq, room: s.room!, game: s.game!, trace: s.trace, intro: "", chat: entries, marks: [], plan: null } });
    expect(s.chat.map((e) => e.text)).toEqual(["one", "two", "three"]);
  });

  it("says in the log who marked which line and who proposed a plan", () => {
    let s = clientIn("basics-lost-update", [step(0)], { others: [1] });
    const l = level("basics-lost-update");
    const mark = makeMark(l, newSession(l), 1, { path: "counter_inc_unlocked", pc: 1 }, "stop", ADA);
    s = msg(s, { type: "marks", marks: [mark], change: { kind: "set", by: ADA.id, name: ADA.name, mark } });
    expect(s.marks).toHaveLength(1);
    expect(s.log.at(-1)!.text).toBe('Ada marked CPU1 counter_inc line 2 "stop here": WRITE_ONCE(counter, tmp + 1);');
    s = msg(s, { type: "marks", marks: [], change: null });
    expect(s.marks).toEqual([]);
    const plan = makePlan(l, {}, false, "1+ 0+ 1+", ADA);
    s = msg(s, { type: "plan", plan, change: { kind: "proposed", by: ADA.id, name: ADA.name } });
    expect(s.plan?.schedule).toBe("1+ 0+ 1+");
    expect(s.log.at(-1)!.text).toMatch(/^Ada proposed a plan: 1\+ 0\+ 1\+ \(3 items, 4 lines; the race at step 4: .*; 1 preemption\)\. Press \. to play it item by item\.$/);
  });
});

describe("the keys", () => {
  it("t opens a chat line that takes the keys until Enter sends it or Esc leaves; then the game's keys work again", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    let r = press(s, initialUi, key("t"), key("h"), key("i"), key(" "), key("u"));
    expect(r.sent).toEqual([]); // h and u were typed, not a hint or a rewind
    expect(r.ui.input).toEqual({ field: "chat", text: "hi u" });
    r = press(s, r.ui, key("", { return: true }));
    expect(r.sent).toEqual([{ type: "chat", text: "hi u" }]);
    expect(r.ui.input).toBeNull();
    expect(press(s, r.ui, key("u")).sent).toEqual([{ type: "rewind", seq: s.seq, steps: 1 }]);
    const esc = press(s, initialUi, key("t"), key("x"), key("", { escape: true }), key("h"));
    expect(esc.sent).toEqual([{ type: "hint", seq: s.seq }]);
  });

  it("P proposes a plan (typed, recorded with an empty line, dropped with -); . steps it", () => {
    let s = clientIn("basics-lost-update", [step(0)]);
    const typed = press(s, initialUi, key("P"), key("1+ 0+"), key("", { return: true }));
    expect(typed.sent).toEqual([{ type: "plan", schedule: "1+ 0+" }]);
    expect(press(s, initialUi, key("P"), key("", { return: true })).sent).toEqual([{ type: "plan", record: true }]);
    expect(press(s, initialUi, key("P"), key("-"), key("", { return: true })).sent).toEqual([{ type: "plan", drop: true }]);
    // Without a plan, . says so; with one, it sends planStep on the room's seq.
    expect(press(s, initialUi, key(".")).sent).toEqual([]);
    const l = level("basics-lost-update");
    s = msg(s, { type: "plan", plan: makePlan(l, {}, false, "0 1", ADA), change: { kind: "proposed", by: ADA.id, name: ADA.name } });
    expect(press(s, initialUi, key(".")).sent).toEqual([{ type: "planStep", seq: s.seq }]);
  });

  it("k marks lines of the CPU shown: the cursor starts at the arrow, s, r and x send marks, Esc leaves", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    let r = press(s, initialUi, key("k"));
    expect(r.ui.mark).toEqual({ cpu: 0, path: "counter_inc_unlocked", line: 1 });
    r = press(s, r.ui, key("", { upArrow: true }), key("s"), key("r"), key("x"), key("", { upArrow: true }));
    expect(r.sent).toEqual([
      { type: "mark", cpu: 0, path: "counter_inc_unlocked", pc: 0, kind: "stop" },
      { type: "mark", cpu: 0, path: "counter_inc_unlocked", pc: 0, kind: "run-to" },
      { type: "mark", cpu: 0, path: "counter_inc_unlocked", pc: 0, kind: "none" },
    ]);
    expect(r.ui.mark?.line).toBe(0);
    r = press(s, r.ui, key("", { escape: true }), key(" "));
    expect(r.ui.mark).toBeNull();
    expect(r.sent).toEqual([{ type: "step", seq: s.seq, cpu: 0 }]);
  });
});

describe("the screens", () => {
  it("the game shows the chat panel beside the log, the marks in the listing with who set them, and the plan's timeline", () => {
    let s = clientIn("basics-lost-update", [step(0)], { others: [1] });
    const l = level("basics-lost-update");
    s = msg(s, chat(1, "hold CPU1"));
    s = msg(s, chat(2, "ok", { id: ME, name: "me" }));
    const mark = makeMark(l, newSession(l), 0, { path: "counter_inc_unlocked", pc: 1 }, "stop", ADA);
    s = msg(s, { type: "marks", marks: [mark], change: { kind: "set", by: ADA.id, name: ADA.name, mark } });
    s = msg(s, { type: "plan", plan: makePlan(l, {}, false, "1+ 0+ 1+", ADA), change: { kind: "proposed", by: ADA.id, name: ADA.name } });
    const out = renderToString(<Game {...props(s)} />, { columns: 120 });
    expect(out.split("\n").length).toBeLessThan(40);
    expect(out).toContain("Chat (t: say something)");
    expect(out).toContain("Ada: hold CPU1");
    expect(out).toContain("you: ok");
    expect(out).toMatch(/⊘   → WRITE_ONCE\(counter, tmp \+ 1\); {3}⊘ stop here: Ada/);
    expect(out).toContain("Plan by Ada (. plays the next item)");
    expect(out).toContain("1+ 0+ 1+ · ends: the race at step 4, 1 preemption");
    expect(out).toMatch(/CPU0 T0 · ● ● ·/);
    expect(out).toMatch(/CPU1 T1 ● · · ✖/);
    // While typing, the panel shows the line and the key bar says how to leave it.
    const typing = renderToString(<Game {...props(s, { input: { field: "chat", text: "on my way" } })} />, { columns: 120 });
    expect(typing).toContain("> on my way▏");
    expect(typing.split("\n").at(-1)).toBe("Enter sends · Esc leaves the line (the game's keys come back)");
    // Marking: the cursor line is marked » and the key bar lists the mark keys.
    const marking = renderToString(<Game {...props(s, { mark: { cpu: 0, path: "counter_inc_unlocked", line: 0 } })} />, { columns: 120 });
    expect(marking).toMatch(/» {5}tmp = READ_ONCE\(counter\);/);
    expect(marking.split("\n").at(-1)).toMatch(/^↑↓ line · s stop here · r run to here · x clear · Esc or k done/);
  });

  it("the debrief lists what was said during the attempt, and its replay shows what was said by then", () => {
    let s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    s = msg(s, chat(1, "before anything", ADA, 0));
    s = msg(s, chat(2, "after two", ADA, 2));
    s = msg(s, chat(3, "another attempt", ADA, 0, "K7M2QX-9"));
    const out = renderToString(<Debrief {...props(s)} />, { columns: 120 });
    expect(out).toContain("Said during this attempt");
    expect(out).toContain("after step 0 Ada: before anything");
    expect(out).toContain("after step 2 Ada: after two");
    expect(out).not.toContain("another attempt");
    const replay = renderToString(<Debrief {...props(s, { replay: { at: 1, playing: false } })} />, { columns: 120 });
    expect(replay).toContain("after step 0 Ada: before anything");
    expect(replay).not.toContain("after two");
  });

  it("the dashboard's m lists the selected team's players to mute or unmute, and a digit sends it", () => {
    let s = { ...clientIn("basics-lost-update"), workshop: { id: "K7QX2MNP", title: "Lab", token: "t".repeat(43), saved: null } } as ClientState;
    const team = { room: "3JGBQD", team: "reds", level: "basics-lost-update", attempt: "3JGBQD-1", phase: "play" as const, steps: 2, hintsUsed: 0, rewinds: 0, outcome: null, score: null, totalScore: 0, finished: 0, members: 2, connected: 2,
      players: [{ id: "p1", name: "ann", connected: true, muted: false }, { id: "p2", name: "bo", connected: true, muted: true }] };
    s = msg(s, { type: "dashboard", workshop: { id: "K7QX2MNP", title: "Lab", paused: false }, teams: [team] });
    const ui = { ...initialUi, dashboard: true };
    const ins = { id: "K7QX2MNP", token: "t".repeat(43) };
    const opened = handleKey({ s, instructor: ins }, ui, key("m"));
    expect(opened.ui.overlay).toBe("mute");
    const out = renderToString(<Dashboard {...props(s, opened.ui)} />, { columns: 120 });
    expect(out).toContain("Mute or unmute in reds: 1 ann · 2 bo (muted) · Esc cancels");
    const sent = handleKey({ s, instructor: ins }, opened.ui, key("2"));
    expect(sent.send).toEqual([{ type: "mute", workshop: "K7QX2MNP", token: "t".repeat(43), room: "3JGBQD", member: "p2", muted: false }]);
    expect(handleKey({ s, instructor: ins }, ui, key("c")).ui.input).toEqual({ field: "wchat", text: "" });
  });
});
