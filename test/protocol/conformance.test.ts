// What an outside client had to guess (issue 16, item 3), each answer checked
// over real sockets against what docs/protocol.md now says.
import { request, type IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { DEFAULT_TIMING } from "../../server/options.js";
import { MemoryStorage } from "../../server/storage/memory.js";
import { CloseCode } from "../../src/protocol/codes.js";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { connect, player, server } from "../server/harness.js";

const frozen = () => 1_700_000_000_000;

describe("conformance details", () => {
  it("a rid on hello or ping is an unknown key (bad-frame), echoed", async () => {
    const s = await server();
    const c = await connect(s.url);
    c.send(JSON.stringify({ type: "ping", t: 1, rid: 5 }));
    expect(await c.take("error")).toMatchObject({ code: "bad-frame", rid: 5, message: expect.stringMatching(/unknown key rid/) });
    c.send(JSON.stringify({ type: "hello", protocol: [1], name: "a", rid: 6 }));
    expect(await c.take("error")).toMatchObject({ code: "bad-frame", rid: 6 });
    c.send({ type: "hello", protocol: [1], name: "a" });
    await c.take("welcome");
  });

  it("plain HTTP: GET /health answers; anything else is 426 Upgrade Required, on any path", async () => {
    const s = await server();
    const status = (method: string, path: string) =>
      new Promise<[number, IncomingHttpHeaders]>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: s.port, method, path }, (res) => {
          res.resume();
          resolve([res.statusCode ?? 0, res.headers]);
        });
        req.on("error", reject);
        req.end();
      });
    expect((await status("GET", "/health"))[0]).toBe(200);
    const [code, headers] = await status("GET", "/");
    expect(code).toBe(426);
    expect(headers.upgrade).toBe("websocket");
    expect((await status("GET", "/nowhere"))[0]).toBe(426);
    expect((await status("POST", "/health"))[0]).toBe(426);
  });

  it("subprotocols: foreign names alone are not refused, but none is selected; with faultline.v1 it is", async () => {
    const s = await server();
    const upgrade = (offer: string) =>
      new Promise<[number, string | undefined]>((resolve, reject) => {
        const req = request({
          host: "127.0.0.1",
          port: s.port,
          path: "/",
          headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-protocol": offer },
        });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve([res.statusCode ?? 0, res.headers["sec-websocket-protocol"] as string | undefined]);
        });
        req.on("response", (res) => {
          res.resume();
          resolve([res.statusCode ?? 0, undefined]);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await upgrade("chat")).toEqual([101, undefined]);
    expect(await upgrade("chat, faultline.v1")).toEqual([101, "faultline.v1"]);
    expect((await upgrade("chat, faultline.v9"))[0]).toBe(426);
  });

  it("a seq ahead of the room's is stale-seq too, with the room's seq", async () => {
    const s = await server();
    const p = await player(s.url, "p");
    await p.ok({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    const e = await p.refused({ type: "step", seq: 7, cpu: 0 }, "stale-seq");
    expect(e.seq).toBe(0);
  });

  it("next to another level: ack, the attempt's update, then a room message (retry sends no room)", async () => {
    const s = await server();
    const p = await player(s.url, "p");
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "claim", cpu: 1 });
    let seq = 0;
    for (const cpu of [0, 1, 0, 1]) seq = (await p.ok({ type: "step", seq, cpu })).seq!;
    await p.sees(seq);
    const from = p.log.length;
    expect((await p.ok({ type: "retry", seq })).seq).toBe(seq + 1);
    await p.take("update", (m) => m.event.kind === "attempt" && m.seq === seq + 1);
    seq++;
    for (const cpu of [0, 1, 0, 1]) seq = (await p.ok({ type: "step", seq, cpu })).seq!;
    const ack = await p.ok({ type: "next", seq });
    const update = await p.take("update", (m) => m.event.kind === "attempt" && m.seq === ack.seq);
    const room = await p.take("room", (m) => m.room.level.id !== j.state.room.level.id);
    expect(room.room.level.id).toBe(update.event.kind === "attempt" ? update.event.level : null);
    const after = p.log.slice(from);
    const kinds = after.map((m) => m.type);
    // The retry brought no room message; the next brought exactly one, after its update.
    expect(kinds.filter((k) => k === "room")).toHaveLength(1);
    expect(after.indexOf(room)).toBeGreaterThan(after.indexOf(update));
    expect(after.indexOf(update)).toBeGreaterThan(after.findIndex((m) => m.type === "ack" && m.seq === ack.seq));
  });

  it("a restart keeps rooms, attempts and instructor tokens, not seats, members or resume tokens", async () => {
    const storage = new MemoryStorage();
    const s1 = await server({ storage });
    const teacher = await player(s1.url, "teacher");
    const w = await teacher.ok<"workshop">({ type: "createWorkshop", title: "lab" });
    const p = await player(s1.url, "p");
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: w.workshop.id });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "step", seq: 0, cpu: 0 });
    await s1.close();

    const s2 = await server({ storage });
    const back = await connect(s2.url);
    back.send({ type: "hello", protocol: [PROTOCOL_VERSION], name: "p", resume: j.you.token });
    expect((await back.take("error")).code).toBe("resume-failed");
    expect((await back.closed).code).toBe(CloseCode.FAILED_TO_RECONNECT);
    const again = await player(s2.url, "p");
    const rejoined = await again.ok<"joined">({ type: "join", room: j.state.room.code });
    expect(rejoined.state.seq).toBe(1);
    expect(rejoined.state.trace).toHaveLength(1);
    expect(rejoined.state.room.seats.every((seat) => seat.holder === null)).toBe(true);
    expect(rejoined.state.room.members.map((m) => m.name)).toEqual(["p"]);
    const t2 = await player(s2.url, "teacher");
    await t2.ok({ type: "watchWorkshop", workshop: w.workshop.id, token: w.token });
  });

  it("over the message rate: 49 rate-limited errors, then the 50th in a row closes with 4008", async () => {
    const s = await server({ now: frozen, limits: { messagesPerSecond: 1, messageBurst: 1, rateStrikes: 50 } });
    const c = await connect(s.url);
    c.send({ type: "ping", t: 0 });
    for (let i = 1; i <= 60; i++) c.send({ type: "ping", t: i });
    expect((await c.closed).code).toBe(CloseCode.RATE_LIMITED);
    expect(c.log.filter((m) => m.type === "pong")).toHaveLength(1);
    expect(c.log.filter((m) => m.type === "error" && m.code === "rate-limited")).toHaveLength(49);
  });

  it("a rate-limited resume leaves the connection open, before hello, the token unspent: hello again later", async () => {
    let now = 1_700_000_000_000;
    const s = await server({ now: () => now, limits: { admissionBurst: 2, admissionsPerMinute: 60 } });
    const p = await player(s.url, "p"); // arrival 1
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update" }); // arrival 2
    await p.drop();
    const c = await connect(s.url);
    c.send({ type: "hello", protocol: [PROTOCOL_VERSION], name: "p", resume: j.you.token });
    expect((await c.take("error")).code).toBe("rate-limited");
    expect(c.open).toBe(true);
    await c.refused({ type: "leave" }, "hello-first");
    now += 1_000; // one arrival a second
    c.send({ type: "hello", protocol: [PROTOCOL_VERSION], name: "p", resume: j.you.token });
    expect((await c.take("welcome")).resumed).toBe(true);
    expect((await c.take("joined")).state.room.code).toBe(j.state.room.code);
  });

  it("empty tokens and empty protocol lists are bad frames, not the errors about their values", async () => {
    const s = await server();
    const c = await connect(s.url);
    c.send(JSON.stringify({ type: "hello", protocol: [], name: "a" }));
    expect((await c.take("error")).code).toBe("bad-frame");
    c.send(JSON.stringify({ type: "hello", protocol: [1], name: "a", resume: "" }));
    expect((await c.take("error")).code).toBe("bad-frame");
    c.send({ type: "hello", protocol: [1], name: "a" });
    await c.take("welcome");
    await c.refused({ type: "watchWorkshop", workshop: "ABCDEFGH", token: "" }, "bad-frame");
    await c.refused({ type: "watchWorkshop", workshop: "ABCDEFGH", token: "x".repeat(43) }, "no-such-workshop");
    // A token of the right shape that names nothing: resume-failed, then 4003.
    const d = await connect(s.url);
    d.send({ type: "hello", protocol: [1], name: "d", resume: "x".repeat(43) });
    expect((await d.take("error")).code).toBe("resume-failed");
    expect((await d.closed).code).toBe(CloseCode.FAILED_TO_RECONNECT);
  });

  it("every game action, knob and start included, needs a claimed CPU", async () => {
    const s = await server();
    const p = await player(s.url, "p");
    await p.ok({ type: "create", level: "basics-spinlock" });
    await p.refused({ type: "knob", seq: 0, knob: "lock", value: "spin_lock" }, "not-a-player");
    await p.refused({ type: "start", seq: 0 }, "not-a-player");
    await p.refused({ type: "hint", seq: 0 }, "not-a-player");
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "knob", seq: 0, knob: "lock", value: "spin_lock" });
  });

  it("a side in a claim outside a versus room is accepted and ignored", async () => {
    const s = await server();
    const p = await player(s.url, "p");
    await p.ok({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0, side: "red" });
    const room = await p.take("room", (m) => m.room.seats[0].holder !== null);
    expect(room.room.versus).toBe(false);
    expect(room.room.seats[0].side).toBeNull();
  });

  it("the bot's delay before each move is 600 ms by default", () => {
    expect(DEFAULT_TIMING.botDelayMs).toBe(600);
  });
});
