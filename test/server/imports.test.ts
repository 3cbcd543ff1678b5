// A server without --redis and --postgres loads neither client library: the static import
// graph from the CLI's entry point (and the server's) never reaches pg or ioredis; only the
// dynamic imports behind those flags do.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** Every module reachable from `entry` by static imports (type-only imports left out), and the packages they name. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const text = readFileSync(f, "utf8");
    // import X from "m"; import { a } from "m"; export { a } from "m"; import "m" (not `import type`).
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm)) {
      const spec = m[1];
      if (spec.startsWith(".")) {
        const ts = resolve(dirname(f), spec.replace(/\.js$/, ".ts"));
        const tsx = ts.replace(/\.ts$/, ".tsx");
        todo.push(existsSync(ts) ? ts : tsx);
      } else packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  return { files, packages };
}

describe("the default server path", () => {
  it("imports neither pg nor ioredis statically, from the CLI or the server library", () => {
    for (const entry of ["src/cli/main.ts", "server/index.ts"]) {
      const g = staticGraph(join(root, entry));
      expect(g.files.size).toBeGreaterThan(10);
      expect([...g.packages].filter((p) => p === "pg" || p === "ioredis"), entry).toEqual([]);
      expect([...g.files].filter((f) => /server\/(cluster\/|storage\/postgres)/.test(f)), entry).toEqual([]);
    }
  });

  it("the PostgreSQL store and the cluster are reached only by the dynamic imports behind the flags", () => {
    const index = readFileSync(join(root, "server", "index.ts"), "utf8");
    expect(index).toMatch(/await import\("\.\/storage\/postgres\.js"\)/);
    expect(index).toMatch(/await import\("\.\/cluster\/cluster\.js"\)/);
    // And those modules do reach the libraries (the test above would otherwise prove nothing).
    expect(staticGraph(join(root, "server", "storage", "postgres.ts")).packages.has("pg")).toBe(true);
    expect(staticGraph(join(root, "server", "cluster", "cluster.ts")).packages.has("ioredis")).toBe(true);
  });
});
