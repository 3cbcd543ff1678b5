// docs/protocol.md is the contract for other clients: every JSON example on it
// must pass the schemas, and every message, error code and close code must be on it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLIENT_TYPES, clientMessage } from "../../src/protocol/client.js";
import { CloseCode, ERROR_CODES } from "../../src/protocol/codes.js";
import { serverMessage, serverMessages } from "../../src/protocol/server.js";

const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "protocol.md"), "utf8");
const blocks = (tag: string) => [...doc.matchAll(new RegExp("```json " + tag + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);

describe("docs/protocol.md", () => {
  it("every client example is a valid client message, and every client message has one", () => {
    const examples = blocks("client");
    expect(examples.length).toBeGreaterThan(20);
    const seen = new Set<string>();
    for (const text of examples) {
      const r = clientMessage.safeParse(JSON.parse(text));
      expect(r.success, `${text}\n${JSON.stringify(r.error?.issues)}`).toBe(true);
      seen.add(JSON.parse(text).type);
    }
    expect([...seen].sort()).toEqual([...CLIENT_TYPES].sort());
  });

  it("every server example is a valid server message, and every server message has one", () => {
    const seen = new Set<string>();
    for (const text of blocks("server")) {
      const r = serverMessage.safeParse(JSON.parse(text));
      expect(r.success, `${text}\n${JSON.stringify(r.error?.issues)}`).toBe(true);
      seen.add(JSON.parse(text).type);
    }
    expect([...seen].sort()).toEqual(Object.keys(serverMessages).sort());
  });

  it("lists every error code and close code", () => {
    for (const code of ERROR_CODES) expect(doc).toContain(`\`${code}\``);
    for (const [name, code] of Object.entries(CloseCode)) expect(doc).toMatch(new RegExp(`\\| ${code} \\| ${name} \\|`));
  });
});
