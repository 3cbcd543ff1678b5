// The process's open-file limit, and the socket limits derived from it.
//
// Every socket is a file descriptor. Under the common soft limit of 1,024 a
// server whose connection cap is 2,000 runs out of descriptors first, and then
// accept() fails: connections are reset, /health cannot be answered, and
// nothing says why. Node itself raises the soft limit to the hard one at start
// (so the limit that binds is usually the hard one); where it has not, the
// server tries (Linux: util-linux `prlimit` on its own pid, which needs no
// privilege for that). It reads what it got, keeps a reserve for its own files
// (the database, its WAL and shared memory, worker threads, stdio), and caps
// sockets below the rest. `startServer` says at start what the limits are.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface OpenFiles {
  /** The soft limit in force (after any raise); null when it could not be read. */
  soft: number | null;
  hard: number | null;
  /** The soft limit before we raised it, when we did. */
  raisedFrom: number | null;
}

/** Descriptors kept for the server's own files and threads. */
export const FD_RESERVE = 64;
/** Never raise past this (a hard limit of a billion is "unlimited", not a target). */
const RAISE_CAP = 1 << 20;

/** The soft and hard "Max open files" of this process (Linux /proc), or nulls. */
export function readOpenFiles(): { soft: number | null; hard: number | null } {
  try {
    const text = readFileSync("/proc/self/limits", "utf8");
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (!m) return { soft: null, hard: null };
    const num = (s: string) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    return { soft: null, hard: null };
  }
}

/** Raise the soft limit to the hard one where allowed; report what is in force. */
export function raiseOpenFiles(): OpenFiles {
  const before = readOpenFiles();
  if (before.soft === null || before.hard === null || before.soft >= before.hard || before.soft >= RAISE_CAP) return { ...before, raisedFrom: null };
  const target = Math.min(before.hard, RAISE_CAP);
  try {
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${target}:${before.hard === Infinity ? "unlimited" : before.hard}`], { stdio: "ignore", timeout: 2000 });
  } catch {
    // No prlimit, or not allowed: the limit stays as it was (and the start-up line says so).
  }
  const after = readOpenFiles();
  return { ...after, raisedFrom: after.soft !== null && after.soft > before.soft ? before.soft : null };
}

export interface SocketBudget {
  /** Every TCP socket at once: WebSocket connections, handshakes, HTTP requests. */
  maxSockets: number;
  /** WebSocket connections (a few descriptors stay for handshakes and /health). */
  maxConnections: number;
}

/** The socket caps for a soft limit of `soft` descriptors, never above the configured connection cap. */
export function socketBudget(soft: number | null, configuredConnections: number): SocketBudget {
  if (soft === null || !Number.isFinite(soft)) return { maxSockets: configuredConnections + Math.max(16, Math.ceil(configuredConnections / 20)), maxConnections: configuredConnections };
  const maxSockets = Math.max(8, Math.floor(soft) - FD_RESERVE);
  const headroom = Math.max(4, Math.ceil(maxSockets / 20));
  return { maxSockets, maxConnections: Math.max(1, Math.min(configuredConnections, maxSockets - headroom)) };
}
