// Servers for tests: port 0 on loopback, millisecond timings, generous limits
// unless a test is about the limits, and a stop() that always runs.

import { afterEach } from "vitest";
import { startServer, type RunningServer, type ServerOptions } from "../../server/index.js";
import { loadCampaign, type Level } from "../../src/level/load.js";
import { TestClient } from "./client.js";

export const FAST = { graceMs: 5_000, heartbeatMs: 60_000, helloTimeoutMs: 5_000, botDelayMs: 0, dashboardMs: 0, closeMs: 200, roomIdleMs: 60_000 };
export const LOOSE = { messagesPerSecond: 10_000, messageBurst: 10_000, admissionsPerMinute: 600_000, admissionBurst: 100_000, roomsPerMinute: 600_000, roomBurst: 100_000, lookupFailuresPerMinute: 600_000, lookupFailureBurst: 100_000, connectionLookupFailures: 100_000 };

const running: RunningServer[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) if (c.open) c.ws.terminate();
  await Promise.all(running.splice(0).map((s) => s.close()));
});

// Loading and validating the campaign takes a while; every server in a file shares one copy.
let campaign: Level[] | null = null;

export async function server(opts: ServerOptions = {}): Promise<RunningServer> {
  campaign ??= loadCampaign();
  const s = await startServer({ host: "127.0.0.1", port: 0, levels: campaign, ...opts, timing: { ...FAST, ...opts.timing }, limits: { ...LOOSE, ...opts.limits } });
  running.push(s);
  return s;
}

/** A client that has said hello (closed after the test). */
export async function player(url: string, name: string): Promise<TestClient> {
  const c = await TestClient.hello(url, name);
  clients.push(c);
  return c;
}

export async function connect(url: string, opts?: Parameters<typeof TestClient.connect>[1]): Promise<TestClient> {
  const c = await TestClient.connect(url, opts);
  clients.push(c);
  return c;
}

export function track(c: TestClient): TestClient {
  clients.push(c);
  return c;
}
