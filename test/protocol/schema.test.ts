// The door's pure parts: frame parsing, version negotiation, the rate limiter.
import { describe, expect, it } from "vitest";
import { parseFrame } from "../../server/frame.js";
import { KeyedLimiter, TokenBucket } from "../../server/ratelimit.js";
import { negotiate, subprotocol } from "../../src/protocol/version.js";

describe("parseFrame", () => {
  it("accepts a valid message and normalises codes to upper case", () => {
    expect(parseFrame('{"type":"join","room":"3jgbqd","rid":4}')).toEqual({ ok: true, msg: { type: "join", room: "3JGBQD", rid: 4 } });
  });

  it("refuses what is not a protocol message, with a typed code", () => {
    const code = (s: string | null) => {
      const r = parseFrame(s);
      return r.ok ? "ok" : r.code;
    };
    expect(code(null)).toBe("bad-frame");
    expect(code("")).toBe("bad-frame");
    expect(code("null")).toBe("bad-frame");
    expect(code('"hello"')).toBe("bad-frame");
    expect(code('{"typ":"hello"}')).toBe("bad-frame");
    expect(code('{"type":"HELLO"}')).toBe("unknown-type");
    expect(code('{"type":"join","room":"0OIL1A"}')).toBe("bad-frame"); // letters the codes never use
    expect(code('{"type":"step","seq":0,"cpu":1.5}')).toBe("bad-frame");
    expect(code('{"type":"step","seq":0,"cpu":"DMA"}')).toBe("bad-frame");
    expect(code('{"type":"step","seq":0,"cpu":0,"__proto__":{"x":1}}')).toBe("bad-frame");
    expect(code('{"type":"hello","protocol":[],"name":"a"}')).toBe("bad-frame");
    expect(code(`{"type":"hello","protocol":[1],"name":"${"n".repeat(33)}"}`)).toBe("bad-frame");
    expect(code('{"type":"hello","protocol":[1],"name":"   "}')).toBe("bad-frame");
  });

  it("echoes a usable rid from a message it cannot accept", () => {
    expect(parseFrame('{"type":"step","rid":12,"seq":"x","cpu":0}')).toMatchObject({ ok: false, rid: 12 });
    expect(parseFrame('{"type":"step","rid":-1,"seq":"x","cpu":0}')).toMatchObject({ ok: false, rid: undefined });
  });
});

describe("versions", () => {
  it("negotiates the highest shared version", () => {
    expect(negotiate([1])).toBe(1);
    expect(negotiate([3, 1, 2])).toBe(1);
    expect(negotiate([2, 3])).toBeNull();
    expect(subprotocol(1)).toBe("faultline.v1");
  });
});

describe("rate limiting", () => {
  it("a token bucket allows a burst, then the rate", () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.full(10_000)).toBe(true);
  });

  it("per-key buckets are separate, forgotten when full again, and bounded in number", () => {
    const l = new KeyedLimiter(1, 1, 2);
    expect([l.take("a", 0), l.take("a", 0), l.take("b", 0)]).toEqual([true, false, true]);
    expect(l.take("c", 0)).toBe(false); // two keys tracked, both busy: a third is refused
    expect(l.take("c", 5_000)).toBe(true); // the others refilled and were forgotten
  });
});
