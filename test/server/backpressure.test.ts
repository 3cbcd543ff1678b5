// Backpressure: a slow reader is skipped, then resynchronised, or dropped; it never stalls its room.
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../src/protocol/codes.js";
import { Peer, type SocketLike } from "../../server/peer.js";

/** A socket whose client reads only when told to: each read answers the pings written so far, in order. */
class FakeSocket implements SocketLike {
  bufferedAmount = 0;
  readyState = 1;
  sent: string[] = [];
  pings: string[] = [];
  closedWith: number | null = null;
  terminated = false;
  peer: Peer | null = null;
  send(data: string): void {
    this.sent.push(data);
  }
  ping(data: string): void {
    this.pings.push(data);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  /** The client read everything: its pongs come back. */
  readAll(): void {
    for (const id of this.pings.splice(0)) this.peer!.pong(Buffer.from(id));
  }
}

const text = (n: number) => "x".repeat(n);

describe("Peer backpressure", () => {
  const limits = { softBytes: 100, hardBytes: 1000, dropAfterMs: 10 };
  const make = (resync: (s: "room" | "dashboard") => string | null) => {
    const ws = new FakeSocket();
    const peer = new Peer(ws, limits, resync);
    ws.peer = peer;
    return { ws, peer };
  };

  it("counts what the client has not read, marking it with a ping every quarter of the soft cap", () => {
    const { ws, peer } = make(() => null);
    peer.publish("room", text(20));
    expect(ws.pings).toEqual([]);
    peer.publish("room", text(10));
    expect(ws.pings).toEqual(["1"]); // 30 bytes >= 100 / 4
    peer.send(text(40));
    expect(ws.pings).toEqual(["1", "2"]);
    expect(peer.unread).toBe(70);
    ws.readAll();
    expect(peer.unread).toBe(0);
  });

  it("skips room updates over the soft cap of unread bytes, then sends one fresh snapshot once the client has read", () => {
    let snapshots = 0;
    const { ws, peer } = make((stream) => (stream === "room" ? `snapshot ${++snapshots}` : null));
    peer.publish("room", text(101)); // Node's buffer is empty: the kernel took it, the client has not read it
    peer.publish("room", "u2");
    peer.publish("room", "u3");
    expect(peer.skipped).toBe(2);
    // Acks and errors still go out.
    peer.send("ack");
    expect(ws.sent).toEqual([text(101), "ack"]);
    ws.readAll();
    expect(ws.sent).toEqual([text(101), "ack", "snapshot 1"]);
    peer.publish("room", "u4");
    expect(ws.sent.at(-1)).toBe("u4");
  });

  it("sends no ping to mark a skip (no ping flood): the last marker is within a quarter of the cap of the end", () => {
    const { ws, peer } = make(() => "snapshot");
    peer.publish("room", text(30)); // marker 1 at 30
    peer.send(text(80)); // marker 2 at 110
    peer.send(text(10)); // 120: not a quarter past the last marker
    expect(ws.pings).toEqual(["1", "2"]);
    for (let i = 0; i < 100; i++) {
      peer.send("ack");
      peer.publish("room", "u");
    }
    // One per 25 bytes of the 300 bytes of acks, none per skip.
    expect(ws.pings.length).toBeLessThanOrEqual(2 + Math.ceil((120 - 110 + 300) / 25));
    expect(peer.skipped).toBe(100);
    ws.readAll();
    expect(ws.sent.at(-1)).toBe("snapshot");
  });

  it("a stream that went stale on Node's own buffer catches up on the next publish with the snapshot instead of the patch", () => {
    const { ws, peer } = make(() => "snapshot");
    ws.bufferedAmount = 500;
    peer.publish("room", "u1");
    ws.bufferedAmount = 0; // drained, and nothing was written: no pong is due
    peer.publish("room", "u2");
    expect(ws.sent).toEqual(["snapshot"]);
    peer.publish("room", "u3");
    expect(ws.sent.at(-1)).toBe("u3");
  });

  it("a pong that does not echo a marker answers the oldest ping (clients that send empty pongs still resync)", () => {
    const { ws, peer } = make(() => "snapshot");
    peer.send(text(50)); // marker 1 at 50
    peer.send(text(50)); // marker 2 at 100
    peer.publish("room", "u"); // 100 unread: not over the cap yet
    peer.send(text(30)); // marker 3 at 131
    peer.publish("room", "v"); // skipped
    expect(peer.skipped).toBe(1);
    peer.pong(Buffer.alloc(0)); // answers marker 1: 81 unread, under the cap: the snapshot goes out
    expect(ws.sent.at(-1)).toBe("snapshot");
    expect(peer.unread).toBe(131 + "snapshot".length - 50);
    peer.pong(Buffer.from("not a marker")); // marker 2
    peer.pong(Buffer.from("999")); // marker 3
    expect(peer.unread).toBe("snapshot".length);
    peer.pong(Buffer.alloc(0)); // nothing outstanding: nothing happens
    expect(peer.unread).toBe("snapshot".length);
  });

  it("over the hard cap of Node's own buffer the client is dropped: 4010, then cut if it will not finish closing", async () => {
    const { ws, peer } = make(() => null);
    peer.send(text(5000)); // unread, but in the kernel's buffers: not the server's memory
    peer.send("ack 1");
    expect(ws.closedWith).toBeNull();
    ws.bufferedAmount = 1001;
    peer.publish("room", "u1");
    expect(ws.closedWith).toBe(CloseCode.MAY_TRY_RECONNECT);
    expect(peer.open).toBe(false);
    peer.send("ack 2");
    expect(ws.sent).toEqual([text(5000), "ack 1"]);
    await new Promise<void>((resolve) => {
      const check = () => (ws.terminated ? resolve() : setImmediate(check));
      check();
    });
  });

  it("Node's own buffer counts as unread for skipping (no pong has come back yet)", () => {
    const { ws, peer } = make(() => null);
    ws.bufferedAmount = 500;
    peer.publish("room", "u1");
    expect(peer.skipped).toBe(1);
    expect(ws.sent).toEqual([]);
  });
});

// Real sockets: test/server/slowreader.test.ts.
