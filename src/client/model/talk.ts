// Talk on screen (issue 17): the room's chat panel, the plan's preview as a
// timeline, and marks in a listing. Pure functions of what the server sent.
// The keys are rows of the key table (model/keys.ts).

import type { ChatEntry, GameView, Mark, Plan } from "../../protocol/server.js";
import { wrapLine } from "./layout.js";
import type { PanelLine } from "./machine.js";
import { timelineLines, timelineRows } from "./timeline.js";
import { keyOf } from "./keys.js";

/** The symbol a mark shows in a listing, before the line. */
export const MARK_SYMBOL: Record<Mark["kind"], string> = { stop: "⊘", "run-to": "⇥" };

/** The chat as panel lines: the newest that fit in `height` rows, each "name: text" wrapped; `input` is the line being typed. */
export function chatLines(chat: readonly ChatEntry[], me: string | null, width: number, height: number, input: string | null, watching = false): PanelLine[] {
  const head: PanelLine = { text: input !== null ? "Chat (Enter sends · Esc leaves)" : watching ? "Chat (watchers listen)" : `Chat (${keyOf("chat")}: say something)`, head: true };
  const room = Math.max(0, height - 1 - (input === null ? 0 : 1));
  const body: PanelLine[] = [];
  for (let i = chat.length - 1; i >= 0 && body.length < room; i--) {
    const e = chat[i];
    const who = e.from === me ? "you" : e.from === "instructor" ? "★ instructor" : e.name;
    const rows = wrapLine(`${who}: ${e.text}`, width - 1);
    body.unshift(...rows.map((text) => ({ text })));
  }
  const shown = body.slice(Math.max(0, body.length - room));
  const typing: PanelLine[] = input === null ? [] : [{ text: `> ${tail(input, width - 4)}▏`, at: true }];
  return [head, ...shown, ...typing];
}

/** The end of a typed line that fits (the cursor stays in view). */
function tail(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : "…" + chars.slice(chars.length - width + 1).join("");
}

/** The chat of one attempt, as debrief lines: each after the step it was said at. */
export function attemptChat(chat: readonly ChatEntry[], attempt: string, me: string | null, upTo: number | null = null): string[] {
  return chat
    .filter((e) => e.attempt === attempt && (upTo === null || e.step <= upTo))
    .map((e) => `after step ${e.step} ${e.from === me ? "you" : e.from === "instructor" ? "★ instructor" : e.name}: ${e.text}`);
}

/**
 * The plan as machine-panel lines: who proposed it, its schedule, the preview
 * as a timeline (the room's step under ^), where its preview ends, and where
 * the room stands on it (the server's words).
 */
export function planLines(plan: Plan, at: GameView["plan"], lanes: string[], dma: boolean, steps: number, width: number): PanelLine[] {
  const ends = plan.ends.oracle ? `ends: the race at step ${plan.ends.oracle.step}, ${plan.ends.preemptions} preemption${plan.ends.preemptions === 1 ? "" : "s"}` : plan.ends.finished ? "ends: every CPU finishes, no race" : `ends after ${plan.trace.length} steps, no race yet`;
  const out: PanelLine[] = [{ text: `Plan by ${plan.name} (${keyOf("planStep")} plays the next item)`, head: true }];
  for (const w of wrapLine(`${plan.schedule} · ${ends}`, width)) out.push({ text: w });
  const tl = timelineRows(plan.trace, lanes, dma, plan.ends.oracle?.step ?? null, width, steps > 0 ? Math.min(steps, plan.trace.length) : null);
  out.push(...timelineLines(tl).map((text) => ({ text })));
  if (at) for (const w of wrapLine(at.next === null ? `▪ ${at.text}` : `▸ ${at.text}`, width)) out.push({ text: w });
  return out;
}
