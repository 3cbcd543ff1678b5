// Issue 17: talking inside the game, over real sockets. Chat reaches every
// member in order, is saved with the room (a restart keeps it) and comes back
// in replays; what a terminal would obey arrives as harmless text; a chat flood
// is limited without touching anyone who only plays; marks change where a run
// stops and clear on reset; a plan proposed to a three-player room is played
// item by item, each checked as the player's own action, and wins at par.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nextAt, sameLine, type LineAt } from "../../src/game/session.js";
import { compileLevel } from "../../src/level/compile.js";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { verifySetting } from "../../src/level/verify.js";
import { advance } from "../../src/sim/engine.js";
import type { ServerMessageOf } from "../../src/protocol/server.js";
import type { TestClient } from "./client.js";
import { connect, player, server } from "./harness.js";

const campaign = loadCampaign();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "faultline-talk-"));
  dirs.push(d);
  return d;
}

/** A room on `level` with these players, each holding the CPUs given (none: a spectator). */
async function room(url: string, level: string, seats: [string, number[]][]): Promise<{ code: string; clients: TestClient[]; ids: string[] }> {
  const clients: TestClient[] = [];
  const ids: string[] = [];
  let code = "";
  for (const [name, cpus] of seats) {
    const c = await player(url, name);
    const j = code ? await c.ok<"joined">({ type: "join", room: code }) : await c.ok<"joined">({ type: "create", level });
    code = j.state.room.code;
    ids.push(j.you.member);
    for (const cpu of cpus) await c.ok({ type: "claim", cpu });
    clients.push(c);
  }
  return { code, clients, ids };
}

const chats = (c: TestClient) => c.log.flatMap((m) => (m.type === "chat" ? [m.entry] : []));

describe("room chat", () => {
  it("reaches every member in order (spectators and watchers too), is saved with the room, survives a restart and comes back in the replay", async () => {
    const db = join(tmp(), "talk.db");
    let s = await server({ db });
    const { code, clients, ids } = await room(s.url, "basics-lost-update", [["ada", [0]], ["bob", [1]], ["eve", []]]);
    const [ada, bob, eve] = clients;
    // A watcher (join with watch) hears the chat too, but does not talk.
    const wat = await player(s.url, "wat");
    await wat.ok({ type: "join", room: code, watch: true });
    await wat.refused({ type: "chat", text: "can I?" }, "watch-only");
    const said = ["you read first", "then I read", "now write", "and me", "lost it!"];
    // Alternating speakers, each waiting for its ack: the room's order is the order of the acks.
    for (const [i, text] of said.entries()) await (i % 2 ? bob : ada).ok({ type: "chat", text });
    // A spectator may chat too.
    await eve.ok({ type: "chat", text: "nice" });
    const all = [...said, "nice"];
    for (const c of [...clients, wat]) {
      await c.take("chat", (m) => m.entry.text === "nice");
      expect(chats(c).map((e) => e.text)).toEqual(all);
      expect(chats(c).map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(chats(eve)[0]).toMatchObject({ from: ids[0], name: "ada", attempt: `${code}-1`, step: 0 });
    expect(chats(ada)[5]).toMatchObject({ from: ids[2], name: "eve" });

    // Play the attempt to its end; the chat said after step 2 says so.
    const step = async (cpu: number, seq: number) => {
      const c = cpu ? bob : ada;
      await c.sees(seq);
      await c.ok({ type: "step", seq, cpu });
    };
    await step(1, 0);
    await step(0, 1);
    await ada.ok({ type: "chat", text: "two steps in" });
    await step(0, 2);
    await step(1, 3);
    await bob.take("update", (m) => m.game.result !== null);
    const replay = await bob.ok<"replay">({ type: "replay" });
    expect(replay.chat?.map((e) => [e.text, e.step])).toEqual([...all.map((t) => [t, 0]), ["two steps in", 2]]);

    // A restart: the chat is in the database, and the rebuilt room's snapshot carries it.
    await s.close();
    s = await server({ db });
    const back = await player(s.url, "ada again");
    const j = await back.ok<"joined">({ type: "join", room: code });
    expect(j.state.chat?.map((e) => e.text)).toEqual([...all, "two steps in"]);
    // Numbering goes on after the restart, and an earlier attempt's replay still has its chat.
    await back.ok({ type: "claim", cpu: 0 });
    await back.ok({ type: "chat", text: "after the restart" });
    expect((await back.take("chat")).entry.n).toBe(8);
    await back.ok({ type: "retry", seq: back.seq });
    const old = await back.ok<"replay">({ type: "replay", attempt: `${code}-1` });
    expect(old.chat?.map((e) => e.text)).toEqual([...all, "two steps in", "after the restart"]);
  });

  it("escape sequences, bidi overrides and zero-width characters arrive as harmless text; an empty or long message is refused; names with them are refused", async () => {
    const s = await server();
    const { clients } = await room(s.url, "basics-lost-update", [["ada", [0]], ["bob", [1]]]);
    const [ada, bob] = clients;
    const hostile = "\u001b]0;pwned\u0007title \u001b[2Jwipe \u202Egnp.exe\u202C a\u200Bb\u200Dc\u2066x\u2069 \u009b31m tab\there\nline";
    await ada.ok({ type: "chat", text: hostile });
    const got = (await bob.take("chat")).entry.text;
    expect(got).toBe("␛]0;pwned␇title ␛[2Jwipe gnp.exe abcx �31m tab here line");
    // Nothing a terminal acts on is left: no C0 or C1 control, no format character.
    expect(got).not.toMatch(/[\u0000-\u001f\u007f-\u009f\p{Cf}]/u);
    await ada.refused({ type: "chat", text: "\u200B\u202E  \u2066" }, "bad-frame");
    await ada.refused({ type: "chat", text: "x".repeat(281) }, "bad-frame");
    await ada.ok({ type: "chat", text: "x".repeat(280) });
    // Names are refused at the door rather than rewritten (the client's own guard is tested in a terminal: test/client/talk-pty.test.ts).
    for (const name of ["\u001b]0;pwned\u0007", "a\u202Eb", "z\u200Bz"]) {
      const fresh = await connect(s.url);
      fresh.send({ type: "hello", protocol: [1], name });
      expect((await fresh.take("error")).code).toBe("bad-frame");
    }
  });

  it("a chat flood is limited by its own budget: the flooder is refused but keeps playing, and a player who only plays is untouched", async () => {
    // A frozen clock: the budgets never refill during the test, so the counts are exact.
    const s = await server({ now: () => 1_700_000_000_000, limits: { messagesPerSecond: 20, messageBurst: 40, rateStrikes: 50, talkPerMinute: 30, talkBurst: 8 } });
    const { clients } = await room(s.url, "basics-lost-update", [["flood", [0]], ["player", [1]]]);
    const [flood, quiet] = clients;
    // 30 chats at once: within the message rate (what is left of its burst), far over the talk budget.
    for (let i = 0; i < 30; i++) flood.send({ type: "chat", rid: 1000 + i, text: `spam ${i}` });
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => flood.takeWhere((m) => "rid" in m && m.rid === 1000 + i, `reply ${i}`)));
    expect(replies.filter((r) => r.type === "ack")).toHaveLength(8);
    const refused = replies.filter((r) => r.type === "error");
    expect(refused).toHaveLength(22);
    for (const r of refused) expect(r).toMatchObject({ code: "rate-limited" });
    // The player who only plays: every step acknowledged, connection open, and only the chat the budget let through.
    await quiet.ok({ type: "step", seq: quiet.seq, cpu: 1 });
    // The flooder is refused talk, not play: its step goes through too.
    await flood.sees(1);
    await flood.ok({ type: "step", seq: 1, cpu: 0 });
    await quiet.sees(2);
    expect(quiet.open && flood.open).toBe(true);
    expect(chats(quiet).map((e) => e.text)).toEqual(Array.from({ length: 8 }, (_, i) => `spam ${i}`));
  });
});

/** The line `cpu` runs next after each of its first `n` lines run alone from the level's start. */
function positions(level: string, cpu: number, n: number): LineAt[] {
  const c = compileLevel(findLevel(campaign, level)!, {});
  let m = c.machine;
  const out: LineAt[] = [];
  for (let i = 0; i < n; i++) {
    m = advance(c.cfg, m, { cpu });
    out.push(nextAt(c.cfg, m, cpu)!);
  }
  return out;
}

describe("marks", () => {
  it("teammates see a mark and who set it; a run stops at a stop mark and runs through decisions to a run-to mark; a reset clears them", async () => {
    const s = await server();
    const level = "r6-gup-fast-fork";
    const { clients, ids } = await room(s.url, level, [["ada", [0]], ["bob", [1]], ["cat", [2]], ["eve", []]]);
    const [ada, bob, , eve] = clients;
    // CPU1's first run from the start, unmarked, in another room: how far Enter goes.
    const probe = await room(s.url, level, [["probe", [1]]]);
    await probe.clients[0].ok({ type: "run", seq: 0, cpu: 1 });
    const plain = (await probe.clients[0].take("update")).event;
    if (plain.kind !== "run") throw new Error("not a run");
    const natural = plain.entries.length;
    expect(natural).toBeGreaterThan(3);
    const pos = positions(level, 1, natural + 8);
    // The first line index (1-based) at which CPU1's next line is `at`.
    const firstAt = (at: LineAt) => pos.findIndex((p) => sameLine(p, at)) + 1;

    // ada marks a line of CPU1's listing before the first decision: "stop here".
    const stopAt = pos[2];
    await ada.ok({ type: "mark", cpu: 1, ...stopAt, kind: "stop" });
    for (const c of clients) {
      const m = await c.take("marks");
      expect(m.change).toMatchObject({ kind: "set", by: ids[0], name: "ada", mark: { cpu: 1, ...stopAt, kind: "stop", by: ids[0], name: "ada" } });
      expect(m.marks).toHaveLength(1);
      expect(m.change!.mark.line.length).toBeGreaterThan(0);
    }
    // A spectator may not mark; a line the path lacks is refused.
    await eve.refused({ type: "mark", cpu: 1, ...stopAt, kind: "stop" }, "not-a-player");
    await ada.refused({ type: "mark", cpu: 1, path: stopAt.path, pc: 999, kind: "stop" }, "bad-mark");
    await ada.refused({ type: "mark", cpu: 1, path: "no_such_path", pc: 0, kind: "stop" }, "bad-mark");

    // bob's Enter on CPU1 stops before the marked line.
    await bob.ok({ type: "run", seq: bob.seq, cpu: 1 });
    const stopped = (await bob.take("update")).event;
    expect(stopped.kind === "run" && stopped.entries.length).toBe(firstAt(stopAt));

    // Reset clears the marks (everyone hears it), and the run is the natural one again.
    await bob.ok({ type: "reset", seq: bob.seq });
    for (const c of clients) expect((await c.take("marks")).change).toBeNull();
    await bob.ok({ type: "run", seq: bob.seq, cpu: 1 });
    const again = (await bob.take("update", (m) => m.event.kind === "run")).event;
    expect(again.kind === "run" && again.entries.length).toBe(natural);

    // "Run to here" on a line past that decision: Enter runs through it to the line.
    await bob.ok({ type: "reset", seq: bob.seq });
    const target = pos[natural + 4];
    await bob.ok({ type: "mark", cpu: 1, ...target, kind: "run-to" });
    await bob.ok({ type: "run", seq: bob.seq, cpu: 1 });
    const through = (await bob.take("update", (m) => m.event.kind === "run")).event;
    expect(through.kind === "run" && through.entries.length).toBe(firstAt(target));
    // Clearing a mark: everyone hears who cleared which.
    await ada.ok({ type: "mark", cpu: 1, ...target, kind: "none" });
    const cleared = await eve.take("marks", (m) => m.change?.kind === "cleared");
    expect(cleared).toMatchObject({ marks: [], change: { by: ids[0], mark: { name: "bob", kind: "run-to" } } });
  });
});

describe("plans", () => {
  it("a plan proposed to a three-player room is previewed, played one item at a time by whoever holds each CPU, and wins at par", async () => {
    const s = await server();
    const level = "r9-stale-tlb-cow";
    const lv = findLevel(campaign, level)!;
    expect(lv.cpus).toHaveLength(3);
    // The explorer's schedule at par, in the run syntax's single steps: the plan a player types.
    const par = verifySetting(lv, {});
    expect(par.preemptions).toBe(lv.preemptions);
    const { clients, ids } = await room(s.url, level, [["ada", [0]], ["bob", [1]], ["cat", [2]]]);
    const [ada] = clients;
    const byCpu = (cpu: number) => clients[cpu];

    await clients[1].ok({ type: "plan", schedule: par.schedule! });
    for (const c of clients) {
      const p = await c.take("plan");
      expect(p.change).toEqual({ kind: "proposed", by: ids[1], name: "bob" });
      expect(p.plan!.schedule).toBe(par.schedule);
      expect(p.plan!.ends.oracle).not.toBeNull();
      expect(p.plan!.ends.preemptions).toBe(lv.preemptions);
    }
    const plan = (ada.log.find((m) => m.type === "plan") as ServerMessageOf<"plan">).plan!;
    const state = await ada.take("state");
    expect(state.state.game.plan).toMatchObject({ next: 0, of: plan.items.length });
    expect(state.state.plan?.schedule).toBe(par.schedule);

    // Each item is the player's own action: someone else's CPU is refused.
    const first = plan.items[0].cpu!;
    await byCpu((first + 1) % 3).refused({ type: "planStep", seq: ada.seq }, "not-your-cpu");
    let last: ServerMessageOf<"update"> | null = null;
    for (let i = 0; i < plan.items.length; i++) {
      const item = plan.items[i];
      const who = byCpu(item.cpu!);
      // The room's seq counts the items played (each one action).
      const seq = i;
      await who.sees(seq);
      await who.ok({ type: "planStep", seq });
      last = await ada.take("update", (m) => m.seq === seq + 1);
      expect(last.game.steps).toBe(item.to);
    }
    expect(last!.game.result).toMatchObject({ outcome: "won", reason: "oracle", preemptions: lv.preemptions, parPreemptions: lv.preemptions, score: 1000 });
    expect(last!.game.plan).toMatchObject({ next: null, of: plan.items.length });
    await ada.refused({ type: "planStep", seq: ada.seq }, "no-plan");
  });

  it("a plan recorded from the moves replays them; a step off the plan is refused until a rewind puts the room back on it; bad plans are refused", async () => {
    const s = await server();
    const { clients } = await room(s.url, "basics-lost-update", [["ada", [0, 1]], ["eve", []]]);
    const [ada, eve] = clients;
    await ada.refused({ type: "plan", record: true }, "bad-plan"); // nothing to record yet
    await ada.refused({ type: "plan", schedule: "7" }, "bad-plan");
    await ada.refused({ type: "plan", schedule: "0 0 0 0 0" }, "bad-plan"); // CPU0 has finished after two
    await ada.refused({ type: "planStep", seq: 0 }, "no-plan");
    await eve.refused({ type: "plan", schedule: "0" }, "not-a-player");
    // Play the race by hand, record it, and play the recording after a retry.
    for (const cpu of [1, 0, 0, 1]) await ada.ok({ type: "step", seq: ada.seq, cpu });
    await ada.ok({ type: "plan", record: true });
    const recorded = (await ada.take("plan")).plan!;
    expect(recorded.trace.map((e) => e.action)).toEqual([{ cpu: 1 }, { cpu: 0 }, { cpu: 0 }, { cpu: 1 }]);
    await ada.ok({ type: "retry", seq: ada.seq });
    const u0 = await ada.take("update", (m) => m.event.kind === "attempt");
    expect(u0.game.plan).toMatchObject({ next: 0 });

    // Off the plan: CPU0 first. Refused; a rewind puts the room back on it.
    await ada.ok({ type: "step", seq: ada.seq, cpu: 0 });
    const off = await ada.refused({ type: "planStep", seq: ada.seq }, "off-plan");
    expect(off.message).toMatch(/step 1 left the plan/);
    await ada.ok({ type: "rewind", seq: ada.seq });
    let end: ServerMessageOf<"update"> | null = null;
    for (let i = 0; i < recorded.items.length; i++) {
      const seq = ada.seq;
      await ada.ok({ type: "planStep", seq });
      end = await ada.take("update", (m) => m.seq === seq + 1);
    }
    expect(end!.game.result).toMatchObject({ outcome: "won", preemptions: 1 });
    expect(end!.game.steps).toBe(4);
    await ada.ok({ type: "plan", drop: true });
    expect((await eve.take("plan", (m) => m.change.kind === "dropped")).plan).toBeNull();
    await ada.refused({ type: "plan", drop: true }, "no-plan");
  });
});

describe("the instructor", () => {
  it("chats to every room of the workshop and mutes a player in one", async () => {
    const s = await server();
    const teacher = await player(s.url, "teacher");
    const w = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Talk" });
    const creds = { workshop: w.workshop.id, token: w.token };
    const teams: TestClient[] = [];
    const codes: string[] = [];
    for (const name of ["red", "blue"]) {
      const c = await player(s.url, name);
      const j = await c.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: w.workshop.id, team: name });
      codes.push(j.state.room.code);
      teams.push(c);
    }
    await teacher.ok({ type: "workshopChat", ...creds, text: "ten minutes \u001b[2J" });
    for (const c of teams) expect((await c.take("chat")).entry).toMatchObject({ from: "instructor", name: "instructor", text: "ten minutes ␛[2J" });
    await teams[0].refused({ type: "workshopChat", ...creds, token: "x".repeat(43), text: "hi" }, "forbidden");

    await teacher.ok({ type: "watchWorkshop", ...creds });
    const red = teams[0];
    const redId = (red.log.find((m) => m.type === "joined") as ServerMessageOf<"joined">).you.member;
    await teacher.ok({ type: "mute", ...creds, room: codes[0], member: redId, muted: true });
    const d = await teacher.take("dashboard", (m) => m.teams.some((t) => t.players?.some((p) => p.muted)));
    expect(d.teams.find((t) => t.room === codes[0])!.players).toEqual([{ id: redId, name: "red", connected: true, muted: true }]);
    await red.refused({ type: "chat", text: "let me talk" }, "muted");
    await teams[1].ok({ type: "chat", text: "we can" });
    await teacher.ok({ type: "mute", ...creds, room: codes[0], member: redId, muted: false });
    await red.ok({ type: "chat", text: "thanks" });
    await teacher.refused({ type: "mute", ...creds, room: codes[1], member: redId, muted: true }, "no-such-room");
  });
});
