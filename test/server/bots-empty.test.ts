// Bots move only while someone is connected (protocol section 8): the move a bot
// has already armed is not made once the last member leaves or drops, and a
// resume starts them again.
import { describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.js";
import { connect, player, server } from "./harness.js";
import type { TestClient } from "./client.js";

const BOT_DELAY_MS = 150;

/** A room whose eager bot has a move armed: the player holds CPU0 and has started play. */
async function armed(): Promise<{ s: RunningServer; p: TestClient; code: string; token: string }> {
  const s = await server({ timing: { botDelayMs: BOT_DELAY_MS } });
  const p = await player(s.url, "solo");
  const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update", policy: "eager" });
  await p.ok({ type: "claim", cpu: 0 });
  expect((await p.ok({ type: "start", seq: 0 })).seq).toBe(1);
  return { s, p, code: j.state.room.code, token: j.you.token };
}

/** Until the server has seen the last member go (bounded). */
async function nobodyConnected(s: RunningServer, code: string): Promise<void> {
  const deadline = performance.now() + 3000;
  const room = s.hub.registry.rooms.get(code)!;
  while ([...room.members.values()].some((m) => m.peer !== null)) {
    if (performance.now() > deadline) throw new Error("the server never saw the member go");
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Past the armed move's due time. A timer armed later with a longer delay fires after the
 * bot's (Node runs timers in order of expiry), so a move still armed has been made by then.
 */
const pastBotDelay = () => new Promise((r) => setTimeout(r, BOT_DELAY_MS + 20));

describe("bots in a room nobody is connected to", () => {
  it("do not move after the last member leaves (leave, or close 4000)", async () => {
    for (const how of ["leave", "close"] as const) {
      const { s, p, code } = await armed();
      if (how === "leave") await p.ok({ type: "leave" });
      else await p.close(4000);
      await nobodyConnected(s, code);
      // Usually 1; 2 if the event loop stalled past the bot's delay before the leave arrived.
      const seq = s.hub.registry.rooms.get(code)!.seq;
      await pastBotDelay();
      expect(s.hub.registry.rooms.get(code)!.seq, how).toBe(seq);
      expect(s.storage.lastSeq(code), how).toBe(seq);
    }
  });

  it("do not move after the last member drops; they move again once it resumes", async () => {
    const { s, p, code, token } = await armed();
    await p.drop();
    await nobodyConnected(s, code);
    const seq = s.hub.registry.rooms.get(code)!.seq;
    await pastBotDelay();
    expect(s.hub.registry.rooms.get(code)!.seq).toBe(seq);
    expect(s.storage.lastSeq(code)).toBe(seq);
    const q = await connect(s.url);
    q.send({ type: "hello", protocol: [1], name: "solo", resume: token });
    await q.take("welcome");
    expect((await q.take("joined")).state.seq).toBe(seq);
    const u = await q.take("update", (m) => m.event.kind === "step" && m.event.by === "bot");
    expect(u.seq).toBe(seq + 1);
  });
});
