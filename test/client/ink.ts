// Waiting helpers for ink-testing-library under Ink 6 / React 19, after the
// ones Shopify's CLI keeps (src/private/node/testing/ui.ts): input written
// before useInput subscribes is lost, and React's scheduler needs a turn of
// the event loop to flush. Every wait here is bounded and polls a condition;
// none sleeps for a fixed time.

import type { EventEmitter } from "node:events";

const tick = () => new Promise<void>((r) => setImmediate(() => setTimeout(r, 0)));

/** Poll `cond` once per event-loop turn until it holds, failing after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** Ink listens for 'readable' once useInput has put stdin in raw mode: only then may a test type. */
export function inputReady(stdin: EventEmitter): Promise<void> {
  return until(() => stdin.listenerCount("readable") > 0, "useInput to subscribe");
}

/** Wait until the last frame contains `text` (or matches it). */
export function frameHas(lastFrame: () => string | undefined, text: string | RegExp, ms = 3000): Promise<void> {
  const ok = () => {
    const f = lastFrame() ?? "";
    return typeof text === "string" ? f.includes(text) : text.test(f);
  };
  return until(ok, `a frame with ${String(text)}; the last frame was:\n${lastFrame() ?? ""}`, ms).catch(() => {
    throw new Error(`timed out waiting for a frame with ${String(text)}; the last frame was:\n${lastFrame() ?? ""}`);
  });
}
