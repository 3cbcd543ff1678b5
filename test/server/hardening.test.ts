// The door: payload size, validation, rate limits, heartbeat, hello, origin, versions.
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/codes.js";
import { PROTOCOL_VERSION, subprotocol } from "../../src/protocol/version.js";
import { MemoryStorage } from "../../server/storage/memory.js";
import type { LogEntry } from "../../src/game/replay.js";
import { connect, player, server } from "./harness.js";

const frozen = () => 1_700_000_000_000;

describe("frames", () => {
  it("a frame over maxPayload closes that socket (1009); the server carries on", async () => {
    const s = await server({ limits: { maxPayload: 1024 } });
    const c = await player(s.url, "big");
    c.send(JSON.stringify({ type: "ping", pad: "x".repeat(2000) }));
    expect((await c.closed).code).toBe(1009);
    const d = await player(s.url, "next");
    d.send({ type: "ping", t: 1 });
    expect((await d.take("pong")).t).toBe(1);
  });

  it("bad frames get typed errors with the rid echoed when there is one", async () => {
    const s = await server();
    const c = await connect(s.url);
    c.send("{not json");
    expect((await c.take("error")).code).toBe("bad-frame");
    c.send(Buffer.from([1, 2, 3]));
    expect((await c.take("error")).message).toMatch(/binary/);
    c.send(JSON.stringify([1, 2]));
    expect((await c.take("error")).code).toBe("bad-frame");
    c.send(JSON.stringify({ type: "teleport", rid: 7 }));
    expect(await c.take("error")).toMatchObject({ code: "unknown-type", rid: 7 });
    c.send(JSON.stringify({ type: "join", room: "ABCDEF", rid: 8 }));
    expect(await c.take("error")).toMatchObject({ code: "hello-first", rid: 8 });
    c.send(JSON.stringify({ type: "hello", protocol: [1], name: "x", admin: true }));
    expect((await c.take("error")).message).toMatch(/unknown key admin/);
    c.send(JSON.stringify({ type: "hello", protocol: [1], name: "\u0007bell" }));
    expect((await c.take("error")).code).toBe("bad-frame");
    c.send({ type: "hello", protocol: [1], name: "ok" });
    await c.take("welcome");
    c.send(JSON.stringify({ type: "step", seq: -1, cpu: 0, rid: 9 }));
    expect(await c.take("error")).toMatchObject({ code: "bad-frame", rid: 9, message: expect.stringMatching(/^seq:/) });
  });

  it("no hello in time: closed with 4002", async () => {
    const s = await server({ timing: { helloTimeoutMs: 30 } });
    const c = await connect(s.url);
    expect((await c.closed).code).toBe(CloseCode.WITH_ERROR);
  });
});

describe("versions", () => {
  it("the subprotocol is echoed when offered; hello picks the highest shared version; none shared closes with 4005", async () => {
    const s = await server();
    const a = await connect(s.url);
    expect(a.ws.protocol).toBe(subprotocol(PROTOCOL_VERSION));
    const b = await connect(s.url, { protocols: [] });
    expect(b.ws.protocol).toBe("");
    b.send({ type: "hello", protocol: [PROTOCOL_VERSION, 99], name: "b" });
    expect((await b.take("welcome")).protocol).toBe(PROTOCOL_VERSION);
    const c = await connect(s.url, { protocols: [] });
    c.send({ type: "hello", protocol: [99], name: "c" });
    expect((await c.take("error")).code).toBe("incompatible-protocol");
    expect((await c.closed).code).toBe(CloseCode.INCOMPATIBLE_PROTOCOL);
  });
});

describe("rate limits", () => {
  it("a message flood gets rate-limited errors, then the socket is closed with 4008", async () => {
    const s = await server({ now: frozen, limits: { messagesPerSecond: 5, messageBurst: 5, rateStrikes: 3 } });
    const c = await connect(s.url);
    for (let i = 0; i < 10; i++) c.send({ type: "ping", t: i });
    expect((await c.closed).code).toBe(CloseCode.RATE_LIMITED);
    expect(c.log.filter((m) => m.type === "pong")).toHaveLength(5);
    expect(c.log.filter((m) => m.type === "error" && m.code === "rate-limited")).toHaveLength(2);
  });

  it("a rate-limited frame's error echoes its rid, so a client matching replies by rid is answered", async () => {
    const s = await server({ now: frozen, limits: { messagesPerSecond: 1, messageBurst: 2, rateStrikes: 50 } });
    const c = await player(s.url, "eager"); // the hello took one token
    c.send({ type: "leave", rid: 1 }); // the last token: a normal reply
    expect(await c.take("error")).toMatchObject({ rid: 1, code: "not-in-room" });
    c.send({ type: "join", room: "ABCDEF", rid: 2 });
    expect(await c.take("error")).toMatchObject({ rid: 2, code: "rate-limited" });
    // Even a frame that would be refused for its shape, once over the rate: the well-formed rid comes back.
    c.send(JSON.stringify({ type: "join", room: "no", rid: 3, extra: true }));
    expect(await c.take("error")).toMatchObject({ rid: 3, code: "rate-limited" });
    c.send(JSON.stringify({ type: "ping", rid: 2 ** 31 }));
    const noRid = await c.take("error");
    expect(noRid.code).toBe("rate-limited");
    expect("rid" in noRid).toBe(false);
    c.send("{not json");
    expect((await c.take("error")).code).toBe("rate-limited");
  });

  // Join, create and resume limits per address: test/server/admission.test.ts.
});

describe("heartbeat", () => {
  it("a socket that stops answering pings is cut and its member shown disconnected; a live one stays", async () => {
    const s = await server({ timing: { heartbeatMs: 100, graceMs: 60_000 } });
    const live = await player(s.url, "live");
    const j = await live.ok<"joined">({ type: "create", level: "basics-lost-update" });
    const deadWs = new WebSocket(s.url, { autoPong: false });
    await new Promise((r) => deadWs.once("open", r));
    deadWs.send(JSON.stringify({ type: "hello", protocol: [PROTOCOL_VERSION], name: "dead" }));
    deadWs.send(JSON.stringify({ type: "join", room: j.state.room.code }));
    await live.take("room", (m) => m.room.members.some((x) => x.name === "dead" && x.connected));
    const code = await new Promise<number>((r) => deadWs.once("close", r));
    expect(code).toBe(1006);
    await live.take("room", (m) => m.room.members.some((x) => x.name === "dead" && !x.connected));
    expect(live.open).toBe(true);
  });

  it("pings the sockets in slices, each once per interval: every silent one is cut, every live one stays", async () => {
    // 500 ms: ten slices of 50 ms, each socket in one of them.
    const s = await server({ timing: { heartbeatMs: 500, graceMs: 60_000 } });
    const open = (autoPong: boolean) =>
      new Promise<WebSocket>((resolve) => {
        const ws = new WebSocket(s.url, { autoPong });
        ws.once("open", () => resolve(ws));
      });
    const live = await Promise.all(Array.from({ length: 12 }, () => open(true)));
    const dead = await Promise.all(Array.from({ length: 12 }, () => open(false)));
    const pinged = Promise.all(live.map((ws) => new Promise<void>((r) => ws.once("ping", () => r()))));
    const codes = await Promise.all(dead.map((ws) => new Promise<number>((r) => ws.once("close", r))));
    expect(codes.every((c) => c === 1006)).toBe(true);
    await pinged; // every live socket was visited by some slice
    expect(live.every((ws) => ws.readyState === WebSocket.OPEN)).toBe(true);
    for (const ws of live) ws.close();
  });
});

describe("upgrade requests", () => {
  it("refuses browser origins unless allowed, other paths, and subprotocols of versions it does not speak (426)", async () => {
    const s = await server({ allowOrigins: ["http://localhost:3000"] });
    const status = (url: string, origin?: string, protocols: string[] = []) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, protocols, origin ? { origin } : {});
        ws.on("unexpected-response", (_req, res) => {
          if (res.statusCode === 426) expect(res.headers["x-faultline-protocols"]).toBe(String(PROTOCOL_VERSION));
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on("open", () => {
          resolve(101);
          ws.close();
        });
        ws.on("error", () => {});
      });
    expect(await status(s.url, "https://evil.example")).toBe(403);
    expect(await status(s.url, "http://localhost:3000")).toBe(101);
    expect(await status(s.url.replace(/\/$/, "/other"))).toBe(404);
    expect(await status(s.url, undefined, ["faultline.v99"])).toBe(426);
    expect(await status(s.url, undefined, ["faultline.v99", subprotocol(PROTOCOL_VERSION)])).toBe(101);
  });

  it("GET /health answers with the protocol versions", async () => {
    const s = await server();
    const body = await new Promise<string>((resolve, reject) => {
      request(`http://127.0.0.1:${s.port}/health`, (res) => {
        let b = "";
        res.on("data", (d) => (b += d));
        res.on("end", () => resolve(b));
      })
        .on("error", reject)
        .end();
    });
    expect(JSON.parse(body)).toMatchObject({ ok: true, protocol: [PROTOCOL_VERSION] });
  });
});

describe("a failing database", () => {
  it("an action that cannot be saved is refused (internal), is not applied, and the room goes on", async () => {
    class Flaky extends MemoryStorage {
      fail = false;
      override appendAction(attempt: string, room: string, e: LogEntry): void {
        if (this.fail) throw new Error("disk full");
        super.appendAction(attempt, room, e);
      }
    }
    const storage = new Flaky();
    const lines: string[] = [];
    const s = await server({ storage, log: (l) => lines.push(l) });
    const p = await player(s.url, "p");
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    storage.fail = true;
    await p.refused({ type: "step", seq: 0, cpu: 0 }, "internal");
    expect(s.hub.registry.rooms.get(j.state.room.code)!.snapshot()).toMatchObject({ seq: 0, trace: [] });
    expect(p.log.filter((m) => m.type === "update")).toEqual([]);
    expect(lines.join("\n")).toMatch(/disk full/);
    storage.fail = false;
    expect((await p.ok({ type: "step", seq: 0, cpu: 0 })).seq).toBe(1);
  });
});
