// A class behind one address (issue 13): the per-address limits admit 300
// students at once, refuse a brute force of room codes, and count a proxied
// client under its forwarded address only when the proxy is trusted.
import { describe, expect, it } from "vitest";
import { clientAddress, limitKey, normalize, parseTrustProxy, TrustedProxies } from "../../server/address.js";
import type { RunningServer } from "../../server/index.js";
import { DEFAULT_LIMITS } from "../../server/options.js";
import { CODE_ALPHABET } from "../../src/protocol/client.js";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { TestClient } from "./client.js";
import { connect, player, server, track } from "./harness.js";

/** The default admission and lookup limits (the harness loosens them for other tests). */
const DEFAULTS = {
  admissionsPerMinute: DEFAULT_LIMITS.admissionsPerMinute,
  admissionBurst: DEFAULT_LIMITS.admissionBurst,
  roomsPerMinute: DEFAULT_LIMITS.roomsPerMinute,
  roomBurst: DEFAULT_LIMITS.roomBurst,
  lookupFailuresPerMinute: DEFAULT_LIMITS.lookupFailuresPerMinute,
  lookupFailureBurst: DEFAULT_LIMITS.lookupFailureBurst,
  connectionLookupFailures: DEFAULT_LIMITS.connectionLookupFailures,
};

/** A clock the test moves. */
function clock() {
  const c = { t: 1_700_000_000_000, now: () => c.t };
  return c;
}

const randomCode = (rng: () => number) => Array.from({ length: 6 }, () => CODE_ALPHABET[Math.floor(rng() * CODE_ALPHABET.length)]).join("");

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 300 students from one address: 75 teams of 4, each team's first creates a room and three join it. */
async function classOf300(s: RunningServer, tag: string): Promise<TestClient[]> {
  const students = await Promise.all(Array.from({ length: 300 }, (_, i) => player(s.url, `${tag}${i}`)));
  const leads = students.filter((_, i) => i % 4 === 0);
  const created = await Promise.all(leads.map((c) => c.ok<"joined">({ type: "create", level: "basics-lost-update" })));
  const codes = created.map((j) => j.state.room.code);
  await Promise.all(students.map((c, i) => (i % 4 === 0 ? null : c.ok<"joined">({ type: "join", room: codes[Math.floor(i / 4)] }))));
  return students;
}

const addressOf = (s: RunningServer, name: string) => [...s.hub.conns].find((c) => c.player?.name === name)?.ip;

describe("a class behind one address (default limits)", () => {
  it("300 students get in at once; the next arrivals wait for the refill, which admits another 300 in 30 s", async () => {
    const clk = clock(); // frozen unless the test moves it: all 300 arrive at the same instant
    const s = await server({ now: clk.now, limits: DEFAULTS });
    const t0 = performance.now();
    await classOf300(s, "a");
    const ms = performance.now() - t0;
    expect(s.hub.conns.size).toBe(300);
    expect([...s.hub.conns].every((c) => c.ip === "127.0.0.1" && c.member !== null)).toBe(true);
    // The burst (600 = 300 hellos + 300 creates or joins) is spent: the 301st student waits.
    const late = await connect(s.url);
    late.send({ type: "hello", protocol: [PROTOCOL_VERSION], name: "late" });
    expect((await late.take("error")).code).toBe("rate-limited");
    // 30 s later the bucket has refilled (20 a second): a second class of 300 gets in.
    clk.t += 30_000;
    await classOf300(s, "b");
    expect([...s.hub.conns].filter((c) => c.member !== null)).toHaveLength(600);
    console.log(`class of 300 from one address: every hello and join answered in ${ms.toFixed(0)} ms`);
  });

  it("300 students who each create a room get in at once; one address cannot go on creating rooms", async () => {
    const clk = clock();
    const s = await server({ now: clk.now, limits: DEFAULTS });
    const students = await Promise.all(Array.from({ length: 300 }, (_, i) => player(s.url, `solo${i}`)));
    await Promise.all(students.map((c) => c.ok<"joined">({ type: "create", level: "basics-lost-update" })));
    expect(s.hub.registry.rooms.size).toBe(300);
    // A second later: 20 more arrivals, but one more room (one a second).
    clk.t += 1_000;
    const c = students[0];
    await c.ok({ type: "leave" });
    await c.ok({ type: "create", level: "basics-lost-update" });
    await c.ok({ type: "leave" });
    expect((await c.refused({ type: "create", level: "basics-lost-update" }, "rate-limited")).message).toMatch(/rooms created/);
    expect((await c.refused({ type: "createWorkshop", title: "mine" }, "rate-limited")).message).toMatch(/rooms created/);
    // Joining a room needs none of its own.
    await c.ok({ type: "join", room: [...s.hub.registry.rooms.keys()][1] });
  });

  it("a brute force of room codes from one client is refused, and then from its address, whatever the code", async () => {
    const clk = clock();
    const s = await server({ now: clk.now, limits: DEFAULTS });
    const host = await player(s.url, "host");
    const real = (await host.ok<"joined">({ type: "create", level: "basics-lost-update" })).state.room.code;
    const rng = prng(13);
    const guess = () => {
      let g = randomCode(rng);
      while (g === real) g = randomCode(rng);
      return g;
    };
    // One connection: connectionLookupFailures (10) unknown codes, then refused, even the real code.
    const g = await player(s.url, "guesser");
    for (let i = 0; i < DEFAULTS.connectionLookupFailures; i++) await g.refused({ type: "join", room: guess() }, "no-such-room");
    await g.refused({ type: "join", room: guess() }, "rate-limited");
    const r = await g.refused({ type: "join", room: real }, "rate-limited");
    expect(r.message).toMatch(/this connection/);
    // New connections from the same address: the address's budget (60 at once, 30 a minute) runs out.
    let failures = DEFAULTS.connectionLookupFailures;
    let refusedAt = -1;
    for (let n = 0; n < 10 && refusedAt < 0; n++) {
      const c = await player(s.url, `guesser${n}`);
      for (let i = 0; i < DEFAULTS.connectionLookupFailures; i++) {
        const reply = await c.request({ type: "join", room: guess() });
        if (reply.type === "error" && reply.code === "rate-limited") {
          refusedAt = failures;
          break;
        }
        expect(reply).toMatchObject({ type: "error", code: "no-such-room" });
        failures++;
      }
    }
    expect(refusedAt).toBe(DEFAULTS.lookupFailureBurst);
    // Now a join of a room that exists is refused too, from any connection of that address: a guesser learns nothing.
    const friend = await player(s.url, "friend");
    await friend.refused({ type: "join", room: real }, "rate-limited");
    // The budget refills at 30 a minute: 2 s later one lookup is allowed, and a successful join costs nothing.
    clk.t += 2_000;
    await friend.ok({ type: "join", room: real });
    const other = await player(s.url, "other");
    await other.ok({ type: "join", room: real });
    await other.refused({ type: "join", room: real }, "already-in-room");
  });

  it("a create in an unknown workshop counts as a failed lookup", async () => {
    const s = await server({ limits: { ...DEFAULTS, connectionLookupFailures: 2 } });
    const c = await player(s.url, "c");
    await c.refused({ type: "create", level: "basics-lost-update", workshop: "ABCDEFGH" }, "no-such-workshop");
    await c.refused({ type: "create", level: "basics-lost-update", workshop: "ABCDEFGJ" }, "no-such-workshop");
    await c.refused({ type: "create", level: "basics-lost-update", workshop: "ABCDEFGK" }, "rate-limited");
    // A create outside a workshop looks nothing up.
    await c.ok({ type: "create", level: "basics-lost-update" });
  });
});

describe("X-Forwarded-For", () => {
  const viaProxy = (s: RunningServer, name: string, xff?: string) => TestClient.hello(s.url, name, xff === undefined ? {} : { headers: { "X-Forwarded-For": xff } }).then(track);
  const helloVia = async (s: RunningServer, name: string, xff: string) => {
    const c = await connect(s.url, { headers: { "X-Forwarded-For": xff } });
    c.send({ type: "hello", protocol: [PROTOCOL_VERSION], name });
    return c.takeWhere((m) => m.type === "welcome" || m.type === "error", "welcome or error");
  };

  it("is ignored unless the connection comes from a trusted proxy", async () => {
    for (const trustProxy of [undefined, ["10.1.2.3"], ["192.168.0.0/16", "::2"]]) {
      const s = await server({ trustProxy, limits: { admissionBurst: 3, admissionsPerMinute: 0.001 } });
      const a = await viaProxy(s, "a", "203.0.113.1");
      await a.ok({ type: "create", level: "basics-lost-update" });
      await viaProxy(s, "b", "203.0.113.2");
      expect(addressOf(s, "a")).toBe("127.0.0.1");
      expect(addressOf(s, "b")).toBe("127.0.0.1");
      // Three arrivals from 127.0.0.1 spent its budget, whatever the header claims.
      expect(await helloVia(s, "c", "203.0.113.3")).toMatchObject({ type: "error", code: "rate-limited" });
    }
  });

  it("is honoured from a trusted proxy: its rightmost untrusted address is the client's", async () => {
    const s = await server({ trustProxy: ["127.0.0.1", "10.0.0.0/8"], limits: { admissionBurst: 2, admissionsPerMinute: 0.001, connectionLookupFailures: 1, lookupFailureBurst: 1, lookupFailuresPerMinute: 0.001 } });
    const a = await viaProxy(s, "a", "203.0.113.5");
    const room = (await a.ok<"joined">({ type: "create", level: "basics-lost-update" })).state.room.code;
    expect(addressOf(s, "a")).toBe("203.0.113.5");
    // 203.0.113.5 has spent its two arrivals; another client behind the proxy has its own.
    expect(await helloVia(s, "a2", "203.0.113.5")).toMatchObject({ type: "error", code: "rate-limited" });
    const b = await viaProxy(s, "b", "203.0.113.6");
    // A client that writes its own header: the proxy appends the address it saw, and that one counts.
    await viaProxy(s, "spoof", "203.0.113.6, 198.51.100.7");
    expect(addressOf(s, "spoof")).toBe("198.51.100.7");
    // Proxies in a chain: trusted hops are skipped.
    await viaProxy(s, "chain", "198.51.100.8, 10.0.0.9, 127.0.0.1");
    expect(addressOf(s, "chain")).toBe("198.51.100.8");
    // Without a header, or with garbage in it, the connection counts as the proxy's.
    await viaProxy(s, "direct");
    expect(addressOf(s, "direct")).toBe("127.0.0.1");
    await viaProxy(s, "junk", "not-an-address");
    expect(addressOf(s, "junk")).toBe("127.0.0.1");
    // Failed lookups count per forwarded client too: b's guess does not stop c's join.
    await b.refused({ type: "join", room: "ZZZZZZ" }, "no-such-room");
    const c = await viaProxy(s, "c", "203.0.113.9");
    await c.ok({ type: "join", room });
  });
});

describe("addresses", () => {
  const trusted = new TrustedProxies(["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]);

  it("normalises IPv4-mapped IPv6 and rejects what is not an address", () => {
    expect(normalize("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalize("2001:DB8::1")).toBe("2001:db8::1");
    expect(normalize("fe80::1%eth0")).toBe("fe80::1");
    expect(normalize("localhost")).toBeNull();
    expect(normalize("1.2.3")).toBeNull();
  });

  it("walks X-Forwarded-For from the right past trusted hops, with ports and brackets", () => {
    expect(clientAddress("::ffff:127.0.0.1", "203.0.113.1", trusted)).toBe("203.0.113.1");
    expect(clientAddress("127.0.0.1", "1.1.1.1, 203.0.113.1:5555", trusted)).toBe("203.0.113.1");
    expect(clientAddress("127.0.0.1", "[2001:db8::7]:443, 10.2.3.4", trusted)).toBe("2001:db8::7");
    expect(clientAddress("127.0.0.1", ["203.0.113.1", "10.0.0.1"], trusted)).toBe("203.0.113.1");
    expect(clientAddress("127.0.0.1", "10.0.0.2, fd00::5", trusted)).toBe("10.0.0.2"); // every hop trusted: the leftmost
    expect(clientAddress("127.0.0.1", "203.0.113.1, bogus, 10.0.0.1", trusted)).toBe("10.0.0.1"); // stops at the garbage
    expect(clientAddress("127.0.0.1", "", trusted)).toBe("127.0.0.1");
    expect(clientAddress("192.0.2.1", "203.0.113.1", trusted)).toBe("192.0.2.1"); // not a trusted peer
    expect(clientAddress("127.0.0.1", "203.0.113.1", new TrustedProxies([]))).toBe("127.0.0.1");
  });

  it("counts IPv4 by address and IPv6 by /64", () => {
    expect(limitKey("203.0.113.1")).toBe("203.0.113.1");
    expect(limitKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKey("::1")).toBe("0:0:0:0::/64");
    expect(limitKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
  });

  it("the trusted list takes addresses and ADDR/PREFIX, and names what it refuses", () => {
    expect(parseTrustProxy(" 10.0.0.5, ::1 ,192.168.0.0/16")).toEqual(["10.0.0.5", "::1", "192.168.0.0/16"]);
    expect(() => parseTrustProxy("proxy.example")).toThrow(/"proxy.example"/);
    expect(() => parseTrustProxy("10.0.0.0/33")).toThrow(/prefix/);
    expect(() => parseTrustProxy("10.0.0.0/8/1")).toThrow(/10.0.0.0\/8\/1/);
  });
});
