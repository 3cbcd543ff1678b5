// A property-based flood of malformed frames from a seated player: every one
// gets a typed error, the server stays up, and the room does not change.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clientMessage } from "../../src/protocol/client.js";
import { player, server } from "../server/harness.js";

/** Valid messages a seated player could send, to corrupt. */
const valid = [
  { type: "step", seq: 0, cpu: 0 },
  { type: "knob", seq: 0, knob: "lock", value: "none" },
  { type: "claim", cpu: 1 },
  { type: "rewind", seq: 0, steps: 1 },
  { type: "hint", seq: 0 },
  { type: "reset", seq: 0 },
  { type: "leave" },
];

const junkValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(-1, 1.5, 64, 2 ** 53, NaN, "0", "", "dma ", "__proto__", [0], { cpu: 0 }),
);

/** A valid message with one thing broken: a field's type or range, an extra key, a missing key, the type's spelling. */
const corrupted = fc.oneof(
  fc.tuple(fc.constantFrom(...valid), fc.constantFrom("seq", "cpu", "knob", "value", "steps", "rid", "type", "choice"), junkValue).map(([m, k, v]) => JSON.stringify({ ...m, [k]: v })),
  fc.tuple(fc.constantFrom(...valid), fc.string({ minLength: 1, maxLength: 12 }), junkValue).map(([m, k, v]) => JSON.stringify({ ...m, [k === "type" ? "typ" : `x${k}`]: v })),
  fc.constantFrom(...valid).map((m) => {
    const { type, ...rest } = m;
    return JSON.stringify(Object.keys(rest).length ? Object.fromEntries(Object.entries(rest).slice(1).concat([["type", type]])) : { typo: type });
  }),
  fc.constantFrom(...valid).map((m) => JSON.stringify({ ...m, type: m.type.toUpperCase() })),
  fc.constantFrom('{"type":"step","seq":0,"cpu":0,"__proto__":{"admin":true}}', '{"type":"step","seq":0,"cpu":0,"constructor":{}}'),
);

const frame = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => ({ text: s })),
  fc.json({ maxDepth: 3 }).map((s) => ({ text: s })),
  corrupted.map((s) => ({ text: s })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ binary: Buffer.from(b) })),
);

/** Frames that happen to be valid messages are not malformed: leave them out. */
const malformed = frame.filter((f) => {
  if ("binary" in f) return true;
  try {
    return !clientMessage.safeParse(JSON.parse(f.text)).success;
  } catch {
    return true;
  }
});

describe("a flood of malformed frames", () => {
  it("gets one typed error per frame, leaves the room exactly as it was, and the server up", async () => {
    const s = await server();
    const honest = await player(s.url, "honest");
    const j = await honest.ok<"joined">({ type: "create", level: "basics-spinlock" });
    const code = j.state.room.code;
    const attacker = await player(s.url, "attacker");
    await attacker.ok({ type: "join", room: code });
    await attacker.ok({ type: "claim", cpu: 1 });
    await honest.take("room", (m) => m.room.seats[1].holder !== null);
    await s.hub.registry.rooms.get(code)!.settled(); // the solver's status is part of the room
    honest.send({ type: "ping" });
    await honest.take("pong"); // and its room message, sent before the pong, is in
    const before = JSON.stringify(s.hub.registry.rooms.get(code)!.snapshot());
    const heard = honest.log.length;

    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(malformed, { minLength: 1, maxLength: 25 }), async (frames) => {
        for (const f of frames) attacker.send("binary" in f ? f.binary : f.text);
        sent += frames.length;
        // One answer per frame, each a typed error, then a ping still gets its pong.
        const tag = sent;
        attacker.send({ type: "ping", t: tag });
        await attacker.take("pong", (m) => m.t === tag);
        const errors = attacker.log.filter((m) => m.type === "error");
        expect(errors).toHaveLength(sent);
        for (const e of errors) expect(["bad-frame", "unknown-type"]).toContain(e.type === "error" && e.code);
        expect(JSON.stringify(s.hub.registry.rooms.get(code)!.snapshot())).toBe(before);
      }),
      { numRuns: 60 },
    );
    expect(sent).toBeGreaterThan(100);
    // Nobody else heard a thing, the attacker's seat still works, and so does the server.
    expect(honest.log.slice(heard)).toEqual([]);
    expect(attacker.log.filter((m) => m.type === "update")).toEqual([]);
    expect((await attacker.ok({ type: "step", seq: 0, cpu: 1 })).seq).toBe(1);
    const fresh = await player(s.url, "fresh");
    await fresh.ok({ type: "join", room: code });
  });
});
