// One client connection as the rooms see it: a minimal socket (so room logic
// never imports ws, as in tldraw's ServerSocketAdapter) plus backpressure.
//
// Room state and dashboards are latest-value streams: when a socket's send
// buffer is over the soft cap, their messages are skipped and the stream marked
// stale; once the buffer drains, the peer gets one fresh snapshot instead of
// what it missed. Acks, errors and notices always go out. Over the hard cap the
// client is dropped (close 4010, MAY_TRY_RECONNECT; its seat waits out the
// grace period). Either way the room never waits for a slow reader.

import { CloseCode } from "../src/protocol/codes.js";

export interface SocketLike {
  /** Bytes queued but not yet handed to the OS. */
  readonly bufferedAmount: number;
  /** 1 while open (the WebSocket readyState). */
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface PeerLimits {
  softBytes: number;
  hardBytes: number;
  /** After a 4010 close, how long the close handshake may take before the socket is cut. */
  dropAfterMs: number;
}

/** A latest-value stream a peer subscribes to: its room's state, or a workshop dashboard. */
export type Stream = "room" | "dashboard";

const OPEN = 1;

export class Peer {
  private stale = new Set<Stream>();
  private dropping = false;
  /** Latest-value messages skipped because the client was behind (for tests and logs). */
  skipped = 0;

  constructor(
    private readonly ws: SocketLike,
    private readonly limits: PeerLimits,
    /** A fresh full message for a stream (a `state` snapshot, a `dashboard`), or null if none applies now. */
    private readonly resync: (stream: Stream) => string | null,
  ) {}

  get open(): boolean {
    return this.ws.readyState === OPEN && !this.dropping;
  }

  /** A message that must arrive (ack, error, joined, notice, replay). */
  send(data: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > this.limits.hardBytes) return this.drop();
    this.write(data);
  }

  /** The next value of a latest-value stream: skipped while the client is behind. */
  publish(stream: Stream, data: string): void {
    if (!this.open) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.hardBytes) return this.drop();
    if (buffered > this.limits.softBytes) {
      this.stale.add(stream);
      this.skipped++;
      return;
    }
    // Behind on this stream: a snapshot (which already includes this change) replaces the patch.
    if (this.stale.has(stream)) return this.catchUp(stream);
    this.write(data);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === OPEN) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private write(data: string): void {
    this.ws.send(data, () => this.drained());
  }

  private drained(): void {
    if (this.stale.size === 0 || !this.open || this.ws.bufferedAmount > this.limits.softBytes) return;
    for (const s of [...this.stale]) this.catchUp(s);
  }

  private catchUp(stream: Stream): void {
    this.stale.delete(stream);
    const snap = this.resync(stream);
    if (snap !== null) this.write(snap);
  }

  private drop(): void {
    if (this.dropping) return;
    this.dropping = true;
    this.ws.close(CloseCode.MAY_TRY_RECONNECT, "too slow: resume with your token");
    // A reader this far behind will not read the close frame either.
    setTimeout(() => this.ws.terminate(), this.limits.dropAfterMs).unref();
  }
}
