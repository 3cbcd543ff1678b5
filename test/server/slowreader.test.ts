// A slow reader (protocol section 11): skipped once 256 KiB it has not read are
// outstanding, however much the kernel's buffers hold, kept alive by the pings
// it answers while it reads, and resynchronised with one `state`.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.js";
import { TestClient } from "./client.js";
import { player, server, track } from "./harness.js";

/** A room on a level with a long trace, the player seated, a watcher that reads, and the reader under test. */
async function room(s: RunningServer, emptyPongs = false) {
  const p = await player(s.url, "player");
  const code = (await p.ok<"joined">({ type: "create", level: "r5-six-steps" })).state.room.code;
  const watcher = await player(s.url, "watcher");
  await watcher.ok({ type: "join", room: code });
  const slow = emptyPongs ? track(await TestClient.hello(s.url, "slow", { autoPong: false })) : await player(s.url, "slow");
  // A client that answers every ping, but with an empty pong (not echoing the payload).
  if (emptyPongs) slow.ws.on("ping", () => slow.ws.pong());
  await slow.ok({ type: "join", room: code });
  await p.ok({ type: "claim", cpu: 0 });
  const conn = [...s.hub.conns].find((c) => c.player?.name === "slow")!;
  const socket = (slow.ws as unknown as { _socket: Socket })._socket;
  return { p, watcher, slow, peer: conn.peer, socket };
}

/** Step and rewind back and forth, pipelined, `n` actions; resolves when the player and the watcher have them all. */
async function play(p: TestClient, watcher: TestClient, n: number): Promise<number> {
  let seq = p.seq;
  for (let i = 0; i < n; i++, seq++) p.send(seq % 2 === 0 ? { type: "step", seq, cpu: 0 } : { type: "rewind", seq, steps: 1 });
  await p.sees(seq, 10_000);
  await watcher.sees(seq, 10_000);
  return seq;
}

/** The game as a client last heard it (from an update, or a state). */
function latestGame(c: TestClient): unknown {
  for (const m of [...c.log].reverse()) {
    if (m.type === "update") return m.game;
    if (m.type === "state") return m.state.game;
  }
  return null;
}

describe("a slow reader", () => {
  it.each([
    ["", false],
    [" (a client whose pongs do not echo the ping)", true],
  ])("is skipped after 256 KiB it has not read (not after the kernel's buffers fill), then gets one state%s", async (_, emptyPongs) => {
    const s = await server();
    const { p, watcher, slow, peer, socket } = await room(s, emptyPongs);
    socket.pause();
    let seq = p.seq;
    for (let batch = 0; batch < 40 && peer.skipped === 0; batch++) {
      const t0 = performance.now();
      seq = await play(p, watcher, 200);
      // The room does not wait for the reader: 200 actions take well under a second.
      expect(performance.now() - t0).toBeLessThan(3000);
    }
    expect(peer.skipped).toBeGreaterThan(0);
    // Everything the server handed to this socket: under the soft cap plus a marker's spacing and one message.
    expect(peer.written).toBeLessThan(256 * 1024 + 64 * 1024 + 16 * 1024);
    seq = await play(p, watcher, 100); // skipped too: nothing more is written
    expect(peer.written).toBeLessThan(256 * 1024 + 64 * 1024 + 16 * 1024);
    socket.resume();
    const snap = await slow.take("state", (m) => m.state.seq === seq, 10_000);
    expect(latestGame(watcher)).toEqual(snap.state.game);
    // Updates up to where it fell behind, consecutive; then exactly one state; then updates again.
    const updates = slow.log.filter((m) => m.type === "update").map((m) => (m.type === "update" ? m.seq : 0));
    expect(updates).toEqual(updates.map((_, i) => updates[0] + i));
    expect(slow.log.filter((m) => m.type === "state")).toHaveLength(1);
    const next = await play(p, watcher, 1);
    expect((await slow.take("update", (m) => m.seq === next)).seq).toBe(seq + 1);
  });

  it("that keeps reading is not cut by the heartbeat while the room outpaces it", async () => {
    const s = await server({ timing: { heartbeatMs: 500 } });
    const { p, watcher, slow, peer, socket } = await room(s);
    // Read one chunk (at most 64 KiB) every 100 ms.
    socket.pause();
    const reader = setInterval(() => {
      socket.once("data", () => socket.pause());
      socket.resume();
    }, 100);
    try {
      const t0 = performance.now();
      let seq = p.seq;
      // Several heartbeat intervals of play faster than the reader reads.
      while (performance.now() - t0 < 2500) seq = await play(p, watcher, 200);
      expect(peer.skipped).toBeGreaterThan(0);
      expect(slow.open).toBe(true);
      clearInterval(reader);
      socket.resume();
      await slow.take("state", (m) => m.state.seq === seq, 10_000);
      expect(slow.open).toBe(true);
    } finally {
      clearInterval(reader);
    }
  });
});
