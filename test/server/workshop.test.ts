// Workshops: an instructor token, team rooms, a live dashboard, pause, announcements, released hints.
import { describe, expect, it } from "vitest";
import { player, server } from "./harness.js";
import type { TestClient } from "./client.js";

async function workshop(url: string) {
  const teacher = await player(url, "teacher");
  const w = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Memory races 101" });
  expect(w.workshop.id).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
  expect(w.token.length).toBeGreaterThanOrEqual(43);
  return { teacher, id: w.workshop.id, token: w.token };
}

async function team(url: string, id: string, name: string, level = "basics-lost-update"): Promise<{ c: TestClient; code: string }> {
  const c = await player(url, name);
  const j = await c.ok<"joined">({ type: "create", level, workshop: id.toLowerCase(), team: `team ${name}` });
  expect(j.state.room).toMatchObject({ workshop: id, team: `team ${name}` });
  await c.ok({ type: "claim", cpu: 0 });
  await c.ok({ type: "claim", cpu: 1 });
  return { c, code: j.state.room.code };
}

describe("workshops", () => {
  it("instructor actions need the token; a dashboard follows every team live", async () => {
    const s = await server();
    const { teacher, id, token } = await workshop(s.url);
    const red = await team(s.url, id, "red");
    const blue = await team(s.url, id, "blue");

    const student = red.c;
    await student.refused({ type: "watchWorkshop", workshop: id, token: "x".repeat(43) }, "forbidden");
    await student.refused({ type: "pauseWorkshop", workshop: id, token: "x".repeat(43) }, "forbidden");
    await student.refused({ type: "releaseHint", workshop: id, token: "y".repeat(43) }, "forbidden");
    await student.refused({ type: "announce", workshop: id, token: "y".repeat(43), text: "free pizza" }, "forbidden");
    await student.refused({ type: "watchWorkshop", workshop: "ZZZZZZZZ", token }, "no-such-workshop");

    await teacher.ok({ type: "watchWorkshop", workshop: id, token });
    const first = await teacher.take("dashboard");
    expect(first.workshop).toEqual({ id, title: "Memory races 101", paused: false });
    expect(first.teams.map((t) => t.team).sort()).toEqual(["team blue", "team red"]);

    // Red wins; the dashboard shows its steps, outcome and score without being asked.
    for (const cpu of [1, 0, 0, 1]) await red.c.ok({ type: "step", seq: red.c.seq, cpu });
    const live = await teacher.take("dashboard", (m) => m.teams.some((t) => t.room === red.code && t.outcome === "won"));
    expect(live.teams.find((t) => t.room === red.code)).toMatchObject({ level: "basics-lost-update", steps: 4, hintsUsed: 0, score: 1000, totalScore: 1000, finished: 1, members: 1, connected: 1 });
    expect(live.teams.find((t) => t.room === blue.code)).toMatchObject({ phase: "setup", outcome: null, score: null });
  });

  it("pause stops every room (and its bots), resume restarts them; announcements reach every team", async () => {
    const s = await server();
    const { teacher, id, token } = await workshop(s.url);
    const a = await team(s.url, id, "a");
    const b = await team(s.url, id, "b", "basics-spinlock");
    await b.c.ok({ type: "release", cpu: 1 }); // the adversary drives CPU1

    await teacher.ok({ type: "pauseWorkshop", workshop: id, token });
    for (const t of [a, b]) await t.c.take("room", (m) => m.room.paused);
    await a.c.refused({ type: "step", seq: 0, cpu: 0 }, "paused");
    await b.c.refused({ type: "start", seq: 0 }, "paused");
    // A room created during the pause starts paused.
    const late = await team(s.url, id, "late");
    await late.c.refused({ type: "step", seq: 0, cpu: 0 }, "paused");

    await teacher.ok({ type: "announce", workshop: id, token, text: "Five minutes left" });
    for (const t of [a, b, late]) expect(await t.c.take("notice")).toEqual({ type: "notice", from: "instructor", text: "Five minutes left" });

    await teacher.ok({ type: "resumeWorkshop", workshop: id, token });
    await b.c.take("room", (m) => !m.room.paused);
    await b.c.ok({ type: "start", seq: 0 });
    // The bot plays again once play resumes.
    await b.c.take("update", (m) => m.event.kind === "step" && m.event.by === "bot");
    await a.c.ok({ type: "step", seq: 0, cpu: 0 });
  });

  it("released hints are free: every team sees the hint, nobody's hint count goes up", async () => {
    const s = await server();
    const { teacher, id, token } = await workshop(s.url);
    const a = await team(s.url, id, "a");
    const b = await team(s.url, id, "b");
    await teacher.ok({ type: "releaseHint", workshop: id, token });
    for (const t of [a, b]) {
      const u = await t.c.take("update", (m) => m.event.kind === "hint");
      expect(u.event).toMatchObject({ kind: "hint", by: "instructor", free: true, index: 0 });
      expect(u.game).toMatchObject({ hintsUsed: 0, hints: [expect.any(String)] });
    }
    // One room only; a room outside the workshop is refused.
    await teacher.ok({ type: "releaseHint", workshop: id, token, room: a.code });
    await a.c.take("update", (m) => m.event.kind === "hint" && m.event.index === 1);
    await teacher.refused({ type: "releaseHint", workshop: id, token, room: "ABCDEF" }, "no-such-room");
    // A team that asks pays.
    await b.c.ok({ type: "hint", seq: b.c.seq });
    const paid = await b.c.take("update", (m) => m.event.kind === "hint" && !m.event.free);
    expect(paid.game.hintsUsed).toBe(1);
    // The results export sees the rooms' finished attempts.
    for (const cpu of [1, 0, 0, 1]) await a.c.ok({ type: "step", seq: a.c.seq, cpu });
    const rows = s.storage.results(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workshop: id, team: "team a", room: a.code, level: "basics-lost-update", outcome: "won", steps: 4, par: 4, hints: 0, score: 1000, players: "a" });
  });
});
