// Frames between nodes. A client may be connected to any node (its "door"),
// and its room runs on one node (the "owner"). The door relays the client's
// frames to the owner, which handles them exactly as its own clients' (through
// a proxy connection whose socket is this relay), and relays back what it sends.
// Both directions go through Redis pub/sub, one channel per node, so each
// direction keeps its order.
//
// An envelope is one line of JSON (the header) and then the frame as it is:
//
//   {"k":"f","c":12,"d":"door-id",...}\n{"type":"step","seq":4,"cpu":0,"rid":9}
//
//   to the owner:  f  a client frame          x  the client's socket closed (code)
//                  rs a snapshot of a stream, please (the client caught up after falling behind)
//   to the door:   s  a message to send       p  the next value of a stream (may be skipped)
//                  r  the snapshot asked for  c  close the client's socket (code, reason)
//                  a  after a join, create, leave or hello: the proxy is in a room (m), its player (p)

import { Peer, type SocketLike, type Stream } from "../peer.js";
import type { Outbox } from "../outbox.js";

export interface Header {
  k: "f" | "x" | "rs" | "s" | "p" | "r" | "c" | "a";
  /** The sending node. */
  n: string;
  /** The relay's id on the door node. */
  c: number;
  /** The door's client address (f). */
  ip?: string;
  /** The player the door knows (f), or the proxy's (a). */
  p?: { id: string; name: string } | null;
  /** Stream (p, r, rs). */
  s?: Stream;
  /** Close code (x, c), in a room (a: 1 or 0). */
  code?: number;
  m?: number;
  reason?: string;
}

export function encode(h: Header, data = ""): string {
  return `${JSON.stringify(h)}\n${data}`;
}

export function decode(raw: string): { h: Header; data: string } | null {
  const i = raw.indexOf("\n");
  if (i < 0) return null;
  try {
    return { h: JSON.parse(raw.slice(0, i)) as Header, data: raw.slice(i + 1) };
  } catch {
    return null;
  }
}

/** The owner's end of a relayed client: what it sends goes back to the door. */
export class RelaySocket implements SocketLike {
  readonly bufferedAmount = 0;
  readyState = 1;

  constructor(private readonly post: (h: Omit<Header, "n" | "c">, data?: string) => void) {}

  send(data: string): void {
    if (this.readyState === 1) this.post({ k: "s" }, data);
  }
  ping(): void {}
  close(code?: number, reason?: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.post({ k: "c", code: code ?? 1000, reason: reason ?? "" });
  }
  terminate(): void {
    this.close(1006, "");
  }
}

/**
 * A peer on the owner for a client on another node. Streams are forwarded with their name,
 * and the door's own peer (which sees the client's socket) decides what to skip.
 */
export class RelayPeer extends Peer {
  constructor(
    private readonly socket: RelaySocket,
    private readonly post: (h: Omit<Header, "n" | "c">, data?: string) => void,
    resync: (stream: Stream) => string | null,
    outbox: Outbox | null,
  ) {
    // The door enforces the buffer limits on the real socket; here nothing is ever buffered.
    super(socket, { softBytes: Number.MAX_SAFE_INTEGER, hardBytes: Number.MAX_SAFE_INTEGER, dropAfterMs: 0 }, resync, outbox);
  }

  override publish(stream: Stream, data: string): void {
    const go = () => {
      if (this.socket.readyState === 1) this.post({ k: "p", s: stream }, data);
    };
    if (this.outbox && !this.outbox.clear) this.outbox.run(go);
    else go();
  }

  /** In order with the messages before it: a status line, a snapshot asked for. */
  postInOrder(h: Omit<Header, "n" | "c">, data?: string): void {
    const go = () => this.post(h, data);
    if (this.outbox && !this.outbox.clear) this.outbox.run(go);
    else go();
  }
}
