// The client's connection against a real server on loopback: hello, a room,
// a seat taken by itself, steps at the seq it saw, a resumed seat after a
// drop, and a consented close that releases the seat at once.

import { afterEach, describe, expect, it } from "vitest";
import { connectClient } from "../../src/client/run.js";
import type { Connection } from "../../src/client/net/connection.js";
import type { ClientStore } from "../../src/client/client-store.js";
import { server } from "../server/harness.js";
import { until } from "./ink.js";

const open: Connection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close(200)));
});

function client(url: string, name: string, room?: string): { store: ClientStore; conn: Connection } {
  const c = connectClient({ url, name, ...(room ? { room } : {}) });
  open.push(c.conn);
  return c;
}

const mine = (store: ClientStore) => store.get().room?.seats.filter((s) => s.holder === store.get().you?.member).map((s) => s.cpu) ?? [];

describe("the client's connection", () => {
  it("plays the first tutorial against a real server: welcome, create, a seat, four steps, a win", async () => {
    const srv = await server();
    const { store, conn } = client(srv.url, "solo");
    await until(() => store.get().player !== null, "welcome");
    expect(store.get().levels[0].id).toBe("basics-lost-update");
    conn.send({ type: "create", level: "basics-lost-update" });
    await until(() => store.get().room !== null && mine(store).length === 1, "a room and a seat");
    expect(mine(store)).toEqual([0]);
    for (const cpu of [1, 0, 0, 1]) {
      const before = store.get().seq;
      conn.send({ type: "step", seq: before, cpu });
      await until(() => store.get().seq > before, `step of CPU${cpu}`);
    }
    const g = store.get().game!;
    expect(g.phase).toBe("over");
    expect(g.result).toMatchObject({ outcome: "won", steps: 4, par: 4, preemptions: 1, parPreemptions: 1, score: 1000 });
    expect(store.get().finished.map((f) => f.level)).toEqual(["basics-lost-update"]);
    expect(store.get().log.filter((l) => l.kind === "step")).toHaveLength(4);
  });

  it("shows a refusal from the server on the status line", async () => {
    const srv = await server();
    const { store, conn } = client(srv.url, "solo");
    await until(() => store.get().player !== null, "welcome");
    conn.send({ type: "create", level: "basics-lost-update" });
    await until(() => mine(store).length === 1, "a seat");
    conn.send({ type: "step", seq: store.get().seq + 5, cpu: 0 });
    await until(() => store.get().flash?.kind === "error", "an error");
    expect(store.get().flash?.text).toMatch(/moved before your key arrived/);
  });

  it("a second player joins by code from the command line and takes the free CPU", async () => {
    const srv = await server();
    const a = client(srv.url, "ada");
    await until(() => a.store.get().player !== null, "welcome");
    a.conn.send({ type: "create", level: "basics-lost-update" });
    await until(() => mine(a.store).length === 1, "ada's seat");
    const code = a.store.get().room!.code;
    const b = client(srv.url, "bob", code.toLowerCase());
    await until(() => mine(b.store).length === 1, "bob's seat");
    expect(mine(b.store)).toEqual([1]);
    await until(() => a.store.get().room!.seats[1].holder !== null, "ada sees bob");
    expect(a.store.get().room!.members.map((m) => m.name).sort()).toEqual(["ada", "bob"]);
  });

  it("resumes its seat after the connection drops", async () => {
    const srv = await server();
    const { store } = client(srv.url, "solo");
    await until(() => store.get().player !== null, "welcome");
    open[0].send({ type: "create", level: "basics-lost-update" });
    await until(() => mine(store).length === 1, "a seat");
    const code = store.get().room!.code;
    for (const c of srv.hub.conns) c.peer.terminate();
    await until(() => store.get().conn === "reconnecting", "the drop");
    await until(() => store.get().log.some((l) => l.text === `Back in room ${code}`), "the room again");
    expect(store.get().log.some((l) => l.text === "Connected as solo (seat resumed)")).toBe(true);
    expect(store.get().conn).toBe("open");
    expect(mine(store)).toEqual([0]);
  });

  it("a consented close leaves the room at once", async () => {
    const srv = await server();
    const { store, conn } = client(srv.url, "solo");
    await until(() => store.get().player !== null, "welcome");
    conn.send({ type: "create", level: "basics-lost-update" });
    await until(() => mine(store).length === 1, "a seat");
    const room = srv.hub.registry.rooms.get(store.get().room!.code)!;
    expect(room.members.size).toBe(1);
    await conn.close();
    await until(() => room.members.size === 0, "the server to see the player go");
    expect(store.get().conn).toBe("closed");
    expect(store.get().closed).toBe("you left: player quit");
  });
});
