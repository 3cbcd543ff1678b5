// welcome names the server's version (package.json's) and a digest of its levels.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_VERSION } from "../../src/protocol/version.js";
import { player, server } from "../server/harness.js";
import { loadCampaign } from "../../src/level/load.js";

describe("welcome", () => {
  it("names the server's version and a digest of its levels, the same for the same levels", async () => {
    expect(SERVER_VERSION).toBe(JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")).version);
    const a = await server();
    const b = await server();
    const c = await server({ levels: loadCampaign().slice(0, 3) });
    const w = async (url: string) => (await player(url, "ada")).log.find((m) => m.type === "welcome")!;
    const [wa, wb, wc] = await Promise.all([w(a.url), w(b.url), w(c.url)]);
    if (wa.type !== "welcome" || wb.type !== "welcome" || wc.type !== "welcome") throw new Error("no welcome");
    expect(wa.server).toEqual({ version: SERVER_VERSION, levels: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(wb.server!.levels).toBe(wa.server!.levels);
    expect(wc.server!.levels).not.toBe(wa.server!.levels);
  });
});
