// Issue 18.2: what the level format cannot say is refused with a clear message that names the key.
// Each file in test/fixtures/refusals says on its first line the exact message it is refused with.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LevelError, parseLevel } from "../src/level/load.js";

const DIR = join(import.meta.dirname, "fixtures", "refusals");

describe("refused level files", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();
  it("there are refusal fixtures", () => expect(files.length).toBeGreaterThanOrEqual(10));
  for (const f of files) {
    it(f, () => {
      const text = readFileSync(join(DIR, f), "utf8");
      const want = /^# refused: (.*)$/m.exec(text)?.[1];
      expect(want, `${f} needs a "# refused: MESSAGE" first line`).toBeDefined();
      let got: string | null = null;
      try {
        parseLevel(`refusals/${f}`, text);
      } catch (e) {
        if (!(e instanceof LevelError)) throw e;
        got = e.message;
      }
      expect(got).toBe(`refusals/${f}: ${want}`);
    });
  }
});
