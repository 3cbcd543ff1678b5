// docs/sources.md and docs/lines.md against the registered kernel paths (issue 15).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCampaign } from "../src/level/load.js";
import "../src/sim/paths/index.js";
import { allPaths } from "../src/sim/path.js";
import { linesDoc } from "./lines-doc.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("what each kernel path claims", () => {
  it("docs/lines.md lists every line each path displays in the campaign, with the generation the path claims", () => {
    const doc = linesDoc(loadCampaign());
    const file = join(root, "docs", "lines.md");
    if (process.env.UPDATE_LINES === "1" || !existsSync(file)) writeFileSync(file, doc);
    expect(readFileSync(file, "utf8"), "docs/lines.md is stale: UPDATE_LINES=1 npx vitest run test/sources.test.ts").toBe(doc);
  }, 60_000);

  it("docs/sources.md has a row for every path: its id, file, function and the generation it claims", () => {
    const rows = new Map<string, string[]>();
    for (const line of readFileSync(join(root, "docs", "sources.md"), "utf8").split("\n")) {
      const cells = line.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
      if (cells.length > 5 && cells[1].startsWith("`")) rows.set(cells[1].replace(/`/g, ""), cells.slice(1, -1));
    }
    for (const p of allPaths()) {
      const r = rows.get(p.id);
      expect(r, `docs/sources.md has no row for ${p.id}`).toBeDefined();
      expect(r![1], `${p.id}: file`).toBe(p.source);
      expect(r![2], `${p.id}: function`).toBe(p.name);
      expect(r![3], `${p.id}: claimed generation`).toBe(p.generation);
      expect(r![4].length, `${p.id}: what it was checked against`).toBeGreaterThan(0);
    }
    expect([...rows.keys()].filter((id) => !allPaths().some((p) => p.id === id))).toEqual([]);
  });
});
