// The client's end of the wire: one WebSocket speaking the Faultline protocol.
// It says hello, checks every frame against the protocol's schemas, numbers
// requests, keeps the resume token of the seat it holds, reconnects after a
// drop the protocol calls resumable, and closes with CONSENTED when the player
// quits. Everything it hears goes to one listener as a ConnEvent.

import WebSocket from "ws";
import type { ClientMessageInput } from "../../protocol/client.js";
import { CloseCode, RESUMABLE_CLOSES } from "../../protocol/codes.js";
import { serverMessage } from "../../protocol/server.js";
import { SUPPORTED_PROTOCOLS, subprotocol } from "../../protocol/version.js";
import type { ConnEvent } from "../model/store.js";

export interface ConnectionOptions {
  url: string;
  name: string;
  onEvent: (ev: ConnEvent) => void;
  /** Reconnection after a resumable drop: attempts and backoff bounds (ms). */
  retry?: { attempts: number; minMs: number; maxMs: number };
}

const DEFAULT_RETRY = { attempts: 10, minMs: 200, maxMs: 5000 };

export class Connection {
  private ws: WebSocket | null = null;
  private rid = 1;
  private token: string | null = null;
  private tries = 0;
  private timer: NodeJS.Timeout | null = null;
  private ending = false;
  private name: string;

  constructor(private readonly opts: ConnectionOptions) {
    this.name = opts.name;
  }

  start(): void {
    this.open();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private open(): void {
    const ws = new WebSocket(this.opts.url, SUPPORTED_PROTOCOLS.map(subprotocol), { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on("open", () => {
      if (this.ws !== ws) return;
      this.tries = 0;
      const hello = { type: "hello" as const, protocol: [...SUPPORTED_PROTOCOLS], name: this.name, ...(this.token ? { resume: this.token } : {}) };
      ws.send(JSON.stringify(hello));
      this.opts.onEvent({ kind: "open" });
    });
    ws.on("message", (data, isBinary) => {
      if (this.ws !== ws || isBinary) return;
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return;
      }
      const parsed = serverMessage.safeParse(raw);
      // A message this client does not know (a newer server) is skipped, not fatal.
      if (!parsed.success) return;
      const msg = parsed.data;
      if (msg.type === "joined") this.token = msg.you.token;
      this.opts.onEvent({ kind: "message", msg });
    });
    ws.on("error", () => {
      // 'close' follows every 'error'; the reason is reported there.
    });
    ws.on("close", (code, reasonBuf) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const reason = reasonBuf.toString();
      if (code === CloseCode.FAILED_TO_RECONNECT) this.token = null;
      const retrying = !this.ending && this.tries < (this.opts.retry ?? DEFAULT_RETRY).attempts && (RESUMABLE_CLOSES.includes(code) || code === CloseCode.FAILED_TO_RECONNECT);
      this.opts.onEvent({ kind: "close", code, reason, retrying });
      if (retrying) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    const r = this.opts.retry ?? DEFAULT_RETRY;
    const delay = Math.min(r.maxMs, r.minMs * 2 ** this.tries);
    this.tries++;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.ending) this.open();
    }, delay);
  }

  /** Send a request; returns its request id, or null when not connected (the caller says so on screen). */
  send(msg: ClientMessageInput): number | null {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return null;
    const withRid = msg.type === "hello" || msg.type === "ping" ? msg : { ...msg, rid: this.rid++ };
    ws.send(JSON.stringify(withRid));
    return "rid" in withRid && typeof withRid.rid === "number" ? withRid.rid : 0;
  }

  /** Start over under another name: a new hello, no seat carried over. */
  rename(name: string): void {
    this.name = name;
    this.token = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(CloseCode.CONSENTED, "renaming");
    this.open();
  }

  /** The player quits: a consented close (no grace period for the seat), resolved once the socket is closed. */
  close(timeoutMs = 1000): Promise<void> {
    this.ending = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once("close", done);
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(CloseCode.CONSENTED, "player quit");
    });
  }
}
