// Backpressure: a slow reader is skipped, then resynchronised, or dropped; it never stalls its room.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../src/protocol/codes.js";
import { Peer, type SocketLike } from "../../server/peer.js";
import { player, server } from "./harness.js";

class FakeSocket implements SocketLike {
  bufferedAmount = 0;
  readyState = 1;
  sent: string[] = [];
  pending: (() => void)[] = [];
  closedWith: number | null = null;
  terminated = false;
  send(data: string, cb?: () => void): void {
    this.sent.push(data);
    if (cb) this.pending.push(cb);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  /** The OS took everything: buffers empty, write callbacks run. */
  flush(): void {
    this.bufferedAmount = 0;
    for (const cb of this.pending.splice(0)) cb();
  }
}

describe("Peer backpressure", () => {
  const limits = { softBytes: 100, hardBytes: 1000, dropAfterMs: 10 };

  it("skips room updates over the soft cap, then sends one fresh snapshot once drained", () => {
    const ws = new FakeSocket();
    let snapshots = 0;
    const peer = new Peer(ws, limits, (stream) => (stream === "room" ? `snapshot ${++snapshots}` : null));
    peer.publish("room", "u1");
    ws.bufferedAmount = 500;
    peer.publish("room", "u2");
    peer.publish("room", "u3");
    expect(peer.skipped).toBe(2);
    // Acks and errors still go out.
    peer.send("ack");
    expect(ws.sent).toEqual(["u1", "ack"]);
    ws.flush();
    expect(ws.sent).toEqual(["u1", "ack", "snapshot 1"]);
    peer.publish("room", "u4");
    expect(ws.sent.at(-1)).toBe("u4");
  });

  it("a stale stream catching up on the next publish gets the snapshot instead of the patch", () => {
    const ws = new FakeSocket();
    const peer = new Peer(ws, limits, () => "snapshot");
    ws.bufferedAmount = 500;
    peer.publish("room", "u1");
    ws.bufferedAmount = 0; // drained without a callback of ours
    peer.publish("room", "u2");
    expect(ws.sent).toEqual(["snapshot"]);
  });

  it("over the hard cap the client is dropped: 4010, then cut if it will not finish closing", async () => {
    const ws = new FakeSocket();
    const peer = new Peer(ws, limits, () => null);
    ws.bufferedAmount = 5000;
    peer.publish("room", "u1");
    expect(ws.closedWith).toBe(CloseCode.MAY_TRY_RECONNECT);
    expect(peer.open).toBe(false);
    peer.send("ack");
    expect(ws.sent).toEqual([]);
    await new Promise<void>((resolve) => {
      const check = () => (ws.terminated ? resolve() : setImmediate(check));
      check();
    });
  });
});

describe("a member who stops reading", () => {
  it("is skipped while the room plays on at full speed, then catches up with one snapshot", async () => {
    const s = await server({ limits: { softBufferBytes: 1, hardBufferBytes: 1 << 30 } });
    const p = await player(s.url, "player");
    const j = await p.ok<"joined">({ type: "create", level: "r5-six-steps" });
    const code = j.state.room.code;
    const watcher = await player(s.url, "watcher");
    await watcher.ok({ type: "join", room: code });
    const sleepy = await player(s.url, "sleepy");
    await sleepy.ok({ type: "join", room: code });
    await p.ok({ type: "claim", cpu: 0 });
    const peer = [...s.hub.conns].find((c) => c.player?.name === "sleepy")!.peer;
    // Stop reading: TCP backpressure builds up in the server's send buffer.
    const socket = (sleepy.ws as unknown as { _socket: Socket })._socket;
    socket.pause();

    // Play back and forth, pipelined, until the server has had to skip the sleeper
    // (the OS buffers take a few MB first); bounded.
    let seq = p.seq;
    for (let batch = 0; batch < 40 && peer.skipped === 0; batch++) {
      const t0 = performance.now();
      for (let i = 0; i < 500; i++, seq++) p.send(seq % 2 === 0 ? { type: "step", seq, cpu: 0 } : { type: "rewind", seq, steps: 1 });
      await p.sees(seq, 10_000);
      await watcher.sees(seq, 10_000);
      // The room does not wait for the sleeper: 500 actions take well under a second.
      expect(performance.now() - t0).toBeLessThan(3000);
    }
    expect(peer.skipped).toBeGreaterThan(0);
    expect(p.log.filter((m) => m.type === "error")).toEqual([]);

    socket.resume();
    const snap = await sleepy.take("state", (m) => m.state.seq === seq, 10_000);
    const last = watcher.log.findLast((m) => m.type === "update");
    expect(last?.type === "update" && last.game).toEqual(snap.state.game);
    // Fewer updates reached the sleeper than happened: the skipped ones were replaced by the snapshot.
    expect(sleepy.log.filter((m) => m.type === "update").length).toBeLessThan(seq - 1);
  });
});
