// A protocol client for tests: a real `ws` socket, an inbox of parsed server
// messages (each checked against the protocol's schemas), and waits that are
// always bounded. No fixed sleeps: tests wait for messages and events.

import { WebSocket, type ClientOptions } from "ws";
import type { ClientMessageInput } from "../../src/protocol/client.js";
import { serverMessage, type ServerMessage, type ServerMessageOf, type ServerType } from "../../src/protocol/server.js";
import { PROTOCOL_VERSION, subprotocol } from "../../src/protocol/version.js";

export const WAIT_MS = 3000;

type Waiter = { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; keep?: boolean };

export class TestClient {
  /** Every message received, in order (never consumed). */
  readonly log: ServerMessage[] = [];
  /** Messages that failed the protocol schema (should stay empty). */
  readonly invalid: unknown[] = [];
  private queue: ServerMessage[] = [];
  private waiters: Waiter[] = [];
  private rid = 1;
  readonly closed: Promise<{ code: number; reason: string }>;
  private isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(data));
      } catch {
        this.invalid.push(String(data));
        return;
      }
      const r = serverMessage.safeParse(raw);
      if (!r.success) {
        this.invalid.push({ raw, issues: r.error.issues.slice(0, 3) });
        return;
      }
      const m = r.data;
      this.log.push(m);
      // Watchers (keep) see the message and leave it queued; the first taker consumes it.
      for (const w of this.waiters.filter((x) => x.keep && x.pred(m))) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
      const w = this.waiters.find((x) => !x.keep && x.pred(m));
      if (w) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      } else this.queue.push(m);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: String(reason) });
      }),
    );
    ws.on("error", () => {});
  }

  static async connect(url: string, opts: ClientOptions & { protocols?: string[] } = {}): Promise<TestClient> {
    const { protocols = [subprotocol(PROTOCOL_VERSION)], ...rest } = opts;
    const ws = new WebSocket(url, protocols, rest);
    const c = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("connect timed out")), WAIT_MS);
      ws.once("open", () => {
        clearTimeout(t);
        resolve();
      });
      ws.once("error", (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return c;
  }

  /** Connect and say hello. */
  static async hello(url: string, name: string, opts: ClientOptions = {}): Promise<TestClient> {
    const c = await TestClient.connect(url, opts);
    c.send({ type: "hello", protocol: [PROTOCOL_VERSION], name });
    await c.take("welcome");
    return c;
  }

  get open(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  send(m: ClientMessageInput | string | Buffer): void {
    this.ws.send(typeof m === "string" || Buffer.isBuffer(m) ? m : JSON.stringify(m));
  }

  /** Remove and return the first message (queued or future) of this type matching `pred`. */
  take<T extends ServerType>(type: T, pred: (m: ServerMessageOf<T>) => boolean = () => true, ms = WAIT_MS): Promise<ServerMessageOf<T>> {
    return this.takeWhere((m) => m.type === type && pred(m as ServerMessageOf<T>), type, ms) as Promise<ServerMessageOf<T>>;
  }

  takeWhere(match: (m: ServerMessage) => boolean, label: string, ms = WAIT_MS, keep = false): Promise<ServerMessage> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(keep ? this.queue[i] : this.queue.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        keep,
        pred: match,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${label} message within ${ms} ms; last received: ${JSON.stringify(this.log.slice(-3)).slice(0, 600)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Send a message with a fresh rid; resolve with the reply carrying it (ack, error, joined, workshop, replay). */
  request(m: Record<string, unknown> & { type: string }): Promise<ServerMessage> {
    const rid = this.rid++;
    this.send({ ...m, rid } as ClientMessageInput);
    return this.takeWhere((x) => "rid" in x && x.rid === rid, `reply to ${m.type} (rid ${rid})`);
  }

  /** A request that must succeed: throws on an error reply. */
  async ok<T extends ServerType = "ack">(m: Record<string, unknown> & { type: string }): Promise<ServerMessageOf<T>> {
    const r = await this.request(m);
    if (r.type === "error") throw new Error(`${m.type} refused: ${r.code}: ${r.message}`);
    return r as ServerMessageOf<T>;
  }

  /** A request that must fail with `code`. */
  async refused(m: Record<string, unknown> & { type: string }, code: string): Promise<ServerMessageOf<"error">> {
    const r = await this.request(m);
    if (r.type !== "error") throw new Error(`${m.type} was accepted (${JSON.stringify(r).slice(0, 200)}); expected ${code}`);
    if (r.code !== code) throw new Error(`${m.type} refused with ${r.code} (${r.message}); expected ${code}`);
    return r;
  }

  /** The room's latest sequence number, as this client has heard it. */
  get seq(): number {
    let seq = 0;
    for (const m of this.log) {
      if (m.type === "joined") seq = m.state.seq;
      else if (m.type === "state") seq = m.state.seq;
      else if (m.type === "update" && m.seq > seq) seq = m.seq;
      else if (m.type === "ack" && m.seq !== undefined && m.seq > seq) seq = m.seq;
    }
    return seq;
  }

  /** Wait until this client has heard of room sequence number `seq` (an update, ack or snapshot). */
  async sees(seq: number, ms = WAIT_MS): Promise<void> {
    if (this.seq >= seq) return;
    await this.takeWhere(() => this.seq >= seq, `seq ${seq}`, ms, true);
  }

  /** The latest result this client has heard of, or null. */
  get result(): unknown {
    for (let i = this.log.length - 1; i >= 0; i--) {
      const m = this.log[i];
      if (m.type === "update") return m.game.result;
      if (m.type === "state" || m.type === "joined") return m.state.game.result;
    }
    return null;
  }

  close(code = 4000): Promise<{ code: number; reason: string }> {
    if (this.open) this.ws.close(code);
    return this.closed;
  }

  /** Cut the TCP connection without a close handshake (a network drop). */
  drop(): Promise<{ code: number; reason: string }> {
    this.ws.terminate();
    return this.closed;
  }
}
