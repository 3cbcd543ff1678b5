// The floor: a bare `ws` server doing the load benchmark's fan-out with no game
// logic. It speaks just enough of the protocol (hello, create, join, claim,
// step, retry; and run, knob, start and ping for bench/defend.ts) for the load
// generators to drive it exactly as they drive the real server: each action is parsed (JSON.parse, no validation), acked to its
// sender, and an `update` of the same size as the real server's is sent to
// every member of the room. No simulator, no storage, no rate limits, no
// heartbeat. Whatever latency this shows is the cost of Node, ws and loopback
// TCP on this machine with the generator competing for the same cores.

import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

interface FloorRoom {
  code: string;
  seq: number;
  members: WebSocket[];
}

export interface Floor {
  url: string;
  close(): Promise<void>;
}

/** Start the floor; `updateBytes` is the size of each broadcast update (the real server's mean). */
export async function startFloor(opts: { host: string; port: number; updateBytes: number }): Promise<Floor> {
  const http = createServer((_req, res) => {
    res.writeHead(426);
    res.end();
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 4096, clientTracking: true });
  const rooms = new Map<string, FloorRoom>();
  let nextId = 0;
  // A game view with the fields the load client reads (phase, cpus, dma), padded to the real size.
  const game = JSON.stringify({
    phase: "play",
    cpus: [0, 1, 2].map((cpu) => ({ cpu, state: "ready" })),
    dma: null,
  });
  const head = `,"event":{"kind":"step"},"game":${game},"pad":"`;
  const fixed = `{"type":"update","seq":000000`.length + head.length + `"}`.length;
  const pad = "x".repeat(Math.max(0, opts.updateBytes - fixed));

  wss.on("connection", (ws) => {
    let room: FloorRoom | null = null;
    ws.on("error", () => {});
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; rid?: number; seq?: number; room?: string; name?: string };
      switch (m.type) {
        case "ping":
          return ws.send(JSON.stringify({ type: "pong", t: (m as { t?: number }).t, now: Date.now() }));
        case "hello":
          return ws.send(JSON.stringify({ type: "welcome", protocol: 1, player: { id: `p${nextId++}`, name: m.name }, resumed: false }));
        case "create":
        case "join": {
          if (m.type === "create") {
            const code = `F${(nextId++).toString(36).toUpperCase().padStart(5, "0")}`;
            rooms.set(code, { code, seq: 0, members: [] });
            room = rooms.get(code)!;
          } else room = rooms.get(m.room ?? "") ?? null;
          if (!room) return ws.send(JSON.stringify({ type: "error", rid: m.rid, code: "no-such-room", message: "no such room" }));
          room.members.push(ws);
          return ws.send(JSON.stringify({ type: "joined", rid: m.rid, you: { member: "x", token: "x" }, state: { seq: room.seq, room: { code: room.code }, game: JSON.parse(game) } }));
        }
        case "claim":
          return ws.send(JSON.stringify({ type: "ack", rid: m.rid }));
        case "step":
        case "run":
        case "knob":
        case "start":
        case "retry": {
          if (!room) return;
          const seq = ++room.seq;
          ws.send(JSON.stringify({ type: "ack", rid: m.rid, seq }));
          const update = `{"type":"update","seq":${seq}${head}${pad}"}`;
          for (const peer of room.members) if (peer.readyState === 1) peer.send(update);
          return;
        }
      }
    });
    ws.on("close", () => {
      if (room) room.members = room.members.filter((w) => w !== ws);
    });
  });

  await new Promise<void>((resolve) => http.listen(opts.port, opts.host, resolve));
  const addr = http.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `ws://${opts.host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
