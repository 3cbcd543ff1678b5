// The instructor's token (issue 14, item 6): shown whole on a line of its own
// at 80 columns, saved beside the profile (owner-only), and picked up by
// `faultline join URL --workshop ID` without --token.
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderToString } from "ink";
import { describe, expect, it } from "vitest";
import { initialUi } from "../../src/client/model/input.js";
import { reduce } from "../../src/client/model/store.js";
import { Dashboard } from "../../src/client/screens/Dashboard.js";
import { loadWorkshopToken, saveWorkshopToken, tokenFor, tokensPath } from "../../src/client/tokens.js";
import { clientInLobby } from "./fixtures.js";

const TOKEN = "pP0m9Q2b7WmX4i0e6cS1l8q0bTzK3hV5nR2aD9fJ1uY";

describe("the instructor's token", () => {
  it("is saved beside the profile, readable by its owner only, and found again by workshop id", () => {
    const home = mkdtempSync(join(tmpdir(), "fl-token-"));
    const path = tokensPath({ FAULTLINE_HOME: home });
    expect(path).toBe(join(home, "workshops.json"));
    expect(saveWorkshopToken("k7qx2mnp", { token: TOKEN, url: "ws://h:7373/", title: "Lab" }, path)).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadWorkshopToken("K7QX2MNP", path)).toEqual({ token: TOKEN, url: "ws://h:7373/", title: "Lab" });
    // join --workshop ID: the saved token; with --team it is a team, with --token that one.
    expect(tokenFor("K7QX2MNP", undefined, undefined, path)).toBe(TOKEN);
    expect(tokenFor("K7QX2MNP", "reds", undefined, path)).toBeUndefined();
    expect(tokenFor("K7QX2MNP", undefined, "other", path)).toBe("other");
    expect(tokenFor("NOPE2345", undefined, undefined, path)).toBeUndefined();
  });

  it("the dashboard shows it whole on its own line at 80 columns, and where it was saved", () => {
    let s = clientInLobby();
    s = reduce(s, { kind: "message", msg: { type: "workshop", workshop: { id: "K7QX2MNP", title: "Lab" }, token: TOKEN } });
    s = { ...s, workshop: { ...s.workshop!, saved: "/home/ada/.local/state/faultline/workshops.json" } };
    const out = renderToString(<Dashboard s={s} ui={{ ...initialUi, dashboard: true }} cols={80} rows={24} progress={{}} />, { columns: 80 });
    const ls = out.split("\n");
    expect(ls).toContain(TOKEN);
    expect(out.replace(/\s+/g, " ")).toContain("saved in /home/ada/.local/state/faultline/workshops.json");
    expect(out.replace(/\s+/g, " ")).toContain("--workshop K7QX2MNP opens this dashboard again");
    expect(ls.length).toBeLessThan(24);
    for (const l of ls) expect([...l].length).toBeLessThanOrEqual(80);
  });
});
