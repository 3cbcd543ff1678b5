// One client connection as the rooms see it: a minimal socket (so room logic
// never imports ws, as in tldraw's ServerSocketAdapter) plus backpressure.
//
// Room state and dashboards are latest-value streams: when a client is more
// than the soft cap behind, their messages are skipped and the stream marked
// stale; once it catches up, the peer gets one fresh snapshot instead of what
// it missed. Acks, errors and notices always go out. When Node's own send
// buffer is over the hard cap (the server's memory, which only replies and
// notices fill once the streams are skipped) the client is dropped (close
// 4010, MAY_TRY_RECONNECT; its seat waits out the grace period). Either way
// the room never waits for a slow reader.
//
// "Behind" (for skipping) is measured against what the client has read, not what Node still
// holds: the kernel's socket buffers (several MB on a LAN) swallow a slow
// reader's backlog long before Node's own buffer grows, and then every ping
// waits behind megabytes and the heartbeat cuts the socket. So the peer counts
// the bytes it writes and sends a WebSocket ping as a marker every quarter of
// the soft cap (64 KiB by default; the heartbeat's pings are markers too); every client answers pings
// with a pong in order, after reading everything before it, so each pong says
// how much the client has read. Unread = written - read as of the latest pong.

import { CloseCode } from "../src/protocol/codes.js";
import type { Outbox } from "./outbox.js";

export interface SocketLike {
  /** Bytes queued but not yet handed to the OS. */
  readonly bufferedAmount: number;
  /** 1 while open (the WebSocket readyState). */
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  /** A WebSocket ping; the client's pong echoes `data`. */
  ping(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface PeerLimits {
  /** Unread bytes over which latest-value streams are skipped. */
  softBytes: number;
  /**
   * Bytes in Node's own send buffer over which the client is dropped (4010): the server's
   * memory, which only replies and notices can fill once the streams are skipped.
   */
  hardBytes: number;
  /** After a 4010 close, how long the close handshake may take before the socket is cut. */
  dropAfterMs: number;
}

/** A latest-value stream a peer subscribes to: its room's state, or a workshop dashboard. */
export type Stream = "room" | "dashboard";

const OPEN = 1;
/** Markers outstanding at most (a client this far behind is normally over the hard cap already). */
const MAX_MARKERS = 256;

export class Peer {
  private stale = new Set<Stream>();
  private dropping = false;
  /** Latest-value messages skipped because the client was behind (for tests and logs). */
  skipped = 0;
  /** Bytes of messages handed to the socket, ever. */
  written = 0;
  /** Bytes the client has read, as of the latest pong. */
  private read = 0;
  /** Pings sent and not yet answered, in order: [id, bytes written before it]. */
  private markers: [number, number][] = [];
  private nextMarker = 1;
  private lastMarkerAt = 0;
  private readonly markerBytes: number;

  constructor(
    private readonly ws: SocketLike,
    private readonly limits: PeerLimits,
    /** A fresh full message for a stream (a `state` snapshot, a `dashboard`), or null if none applies now. */
    private readonly resync: (stream: Stream) => string | null,
    /** Where messages wait for the writes before them to commit (an asynchronous store); none: they go at once. */
    protected readonly outbox: Outbox | null = null,
  ) {
    this.markerBytes = Math.max(1, Math.floor(limits.softBytes / 4));
  }

  get open(): boolean {
    return this.ws.readyState === OPEN && !this.dropping;
  }

  /** Bytes written that the client had not read at its latest pong (an upper bound: pongs lag). */
  get unread(): number {
    return this.written - this.read;
  }

  /** A message that must arrive (ack, error, joined, notice, replay). */
  send(data: string): void {
    if (this.outbox && !this.outbox.clear) return this.outbox.run(() => this.sendNow(data));
    this.sendNow(data);
  }

  private sendNow(data: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > this.limits.hardBytes) return this.drop();
    this.write(data);
  }

  /** The next value of a latest-value stream: skipped while the client is behind. */
  publish(stream: Stream, data: string): void {
    if (this.outbox && !this.outbox.clear) return this.outbox.run(() => this.publishNow(stream, data));
    this.publishNow(stream, data);
  }

  private publishNow(stream: Stream, data: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > this.limits.hardBytes) return this.drop();
    if (this.behind() > this.limits.softBytes) {
      // No marker needed here: the last one is less than a quarter of the soft cap from the end,
      // so its pong finds the client under the cap. (A ping per skip would be a ping flood:
      // clients cut those; ws does past 60 unanswered.)
      this.stale.add(stream);
      this.skipped++;
      return;
    }
    // Behind on this stream: a snapshot (which already includes this change) replaces the patch.
    if (this.stale.has(stream)) return this.catchUp(stream);
    this.write(data);
  }

  /** The heartbeat's ping: a marker like any other. */
  ping(): void {
    if (this.ws.readyState === OPEN) this.mark();
  }

  /** A pong from the client: it has read everything written before that ping. */
  pong(data: Buffer | string): void {
    const id = String(data) === "" ? NaN : Number(String(data));
    // A pong echoes its ping's payload (RFC 6455). One that does not (a client that answers with
    // an empty pong) is taken as the answer to the oldest ping: pongs come in order.
    let i = Number.isSafeInteger(id) ? this.markers.findIndex(([m]) => m === id) : -1;
    if (i < 0) i = this.markers.length > 0 ? 0 : -1;
    if (i < 0) return;
    this.read = Math.max(this.read, this.markers[i][1]);
    this.markers.splice(0, i + 1);
    if (this.stale.size > 0 && this.open && this.behind() <= this.limits.softBytes) {
      // A snapshot shows the room as it is: it waits behind writes not yet committed, like any message.
      const go = () => {
        for (const s of [...this.stale]) this.catchUp(s);
      };
      if (this.outbox && !this.outbox.clear) this.outbox.run(go);
      else go();
    }
  }

  close(code: number, reason: string): void {
    // After what was sent before it (an error, then the close).
    if (this.outbox && !this.outbox.clear) return this.outbox.run(() => this.closeNow(code, reason));
    this.closeNow(code, reason);
  }

  private closeNow(code: number, reason: string): void {
    if (this.ws.readyState === OPEN) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** How far behind the client is: unread bytes, or Node's own buffer if that is more (no pong yet). */
  private behind(): number {
    return Math.max(this.unread, this.ws.bufferedAmount);
  }

  private write(data: string): void {
    this.ws.send(data);
    this.written += Buffer.byteLength(data);
    if (this.written - this.lastMarkerAt >= this.markerBytes) this.mark();
  }

  private mark(): void {
    // Forget the oldest (its pong, if it ever comes, is then ignored): bounded memory, and the heartbeat still pings.
    if (this.markers.length >= MAX_MARKERS) this.markers.shift();
    const id = this.nextMarker++;
    this.markers.push([id, this.written]);
    this.lastMarkerAt = this.written;
    this.ws.ping(String(id));
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
