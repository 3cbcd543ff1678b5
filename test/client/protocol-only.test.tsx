// The client draws the game from protocol data alone: it imports nothing of the
// simulator or the level loader, and every campaign level's game screen renders
// from the views the server sends (listings and the machine view included).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { renderToString } from "ink";
import { describe, expect, it } from "vitest";
import { initialUi } from "../../src/client/model/input.js";
import { Game } from "../../src/client/screens/Game.js";
import { clientIn, levels } from "./fixtures.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("the client knows only the protocol", () => {
  it("imports nothing from src/sim or src/level", () => {
    const root = join(import.meta.dirname, "..", "..", "src", "client");
    const offenders = files(root).filter((f) => /from ["'](\.\.\/)+(sim|level|game)\//.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });

  for (const l of levels()) {
    it(`${l.id}: the game screen shows each CPU's code and the machine from the server's views`, () => {
      const s = clientIn(l.id, []);
      const g = s.game!;
      expect(g.view).toBeDefined();
      // Every path the view names has its listing.
      for (const c of g.cpus) {
        const top = c.frames[c.frames.length - 1];
        for (const p of [top?.path, c.upcoming?.path, ...(c.choiceEntries ?? []).map((e) => e.path)]) if (p) expect(s.listings.byPath[p], `${c.name} ${p}`).toBeDefined();
      }
      const out = renderToString(<Game s={s} ui={{ ...initialUi, introDone: g.attempt }} cols={120} rows={40} progress={{}} />, { columns: 120 });
      expect(out).toContain("Locks");
      // The player's CPU (CPU0) is shown in full: its next line, from the listing the server sent.
      const mine = g.cpus[0];
      const path = mine.frames.at(-1)?.path ?? mine.upcoming?.path;
      if (path) expect(out).toContain(s.listings.byPath[path].lines[mine.frames.at(-1)?.pc ?? 0].slice(0, 20));
    });
  }
});
