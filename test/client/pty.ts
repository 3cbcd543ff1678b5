// Drive a command in a real pseudo-terminal (through pty-bridge.py, Python's
// standard pty module): type keys, wait (bounded) for text to appear.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";

const BRIDGE = join(import.meta.dirname, "pty-bridge.py");

// CSI, OSC, and the short ESC sequences Ink and the terminal modes use.
const ANSI = /\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOc]/g;

export const stripAnsi = (s: string): string => s.replace(ANSI, "");

export interface PtyOptions {
  cols: number;
  rows: number;
  /** A second size that SIGUSR1 (resize()) switches to and back. */
  alt?: { cols: number; rows: number };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class PtySession {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the program wrote to the terminal, escape sequences included. */
  raw = "";
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number>;

  constructor(cmd: string, args: string[], opts: PtyOptions) {
    const sizes = [opts.cols, opts.rows, ...(opts.alt ? [opts.alt.cols, opts.alt.rows] : [])].map(String);
    this.child = spawn("python3", [BRIDGE, ...sizes, "--", cmd, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: "pipe" });
    this.child.stdout.on("data", (d: Buffer) => {
      this.raw += d.toString("utf8");
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on("data", (d: Buffer) => {
      this.raw += d.toString("utf8");
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code ?? -1)));
  }

  /** Plain text of everything written so far. */
  text(from = 0): string {
    return stripAnsi(this.raw.slice(from));
  }

  /** A mark: waitFor(text, mark) only looks at output written after it. */
  mark(): number {
    return this.raw.length;
  }

  /** Wait until the plain output after `from` matches, or fail after `ms` with the output so far. */
  waitFor(what: string | RegExp, from = 0, ms = 10_000): Promise<string> {
    const test = () => {
      const t = this.text(from);
      return typeof what === "string" ? t.includes(what) : what.test(t);
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${ms} ms waiting for ${String(what)}; the screen said:\n${this.text(from).slice(-3000)}`));
      }, ms);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve(this.text(from));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  resize(): void {
    this.child.kill("SIGUSR1");
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

/** Keys as a terminal sends them. */
export const KEY = { tab: "\t", enter: "\r", esc: "\x1b", space: " ", up: "\x1b[A", down: "\x1b[B", right: "\x1b[C", left: "\x1b[D", ctrlC: "\x03", end: "\x1b[F", pageDown: "\x1b[6~" } as const;
