// A workshop: an instructor's set of team rooms, a dashboard of them, and the
// instructor's controls (pause and resume, announcements, released hints).
// The instructor token is checked (server/registry.ts instructor) before any of these run.

import type { DashboardTeam, ServerMessage } from "../src/protocol/server.js";
import type { Timing } from "./options.js";
import type { Peer } from "./peer.js";
import type { Room } from "./room.js";
import type { WorkshopRecord } from "./storage/port.js";

export class Workshop {
  readonly rooms = new Map<string, Room>();
  readonly watchers = new Set<Peer>();
  /** Team rows of the workshop's rooms on other nodes (server/cluster), by room code. */
  readonly remote = new Map<string, DashboardTeam>();
  paused: boolean;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;

  constructor(
    readonly rec: WorkshopRecord,
    private readonly timing: Timing,
  ) {
    this.paused = rec.paused;
  }

  get id(): string {
    return this.rec.id;
  }

  teams(): DashboardTeam[] {
    const here = this.localTeams();
    const elsewhere = [...this.remote.values()].filter((t) => !this.rooms.has(t.room));
    return elsewhere.length ? [...here, ...elsewhere].sort((a, b) => a.room.localeCompare(b.room)) : here;
  }

  private localTeams(): DashboardTeam[] {
    return [...this.rooms.values()].map((r) => {
      const s = r.attempt.session;
      const members = [...r.members.values()];
      return {
        room: r.code,
        team: r.team,
        level: r.level.id,
        attempt: r.attempt.id,
        phase: s.phase,
        steps: s.trace.length,
        hintsUsed: s.hintsUsed,
        rewinds: s.rewinds,
        outcome: s.result?.outcome ?? null,
        score: s.result?.score ?? null,
        totalScore: r.finished.score,
        finished: r.finished.count,
        members: members.length,
        connected: members.filter((m) => m.peer !== null).length,
        players: members.map((m) => ({ id: m.player.id, name: m.player.name, connected: m.peer !== null, muted: r.muted.has(m.player.id) })),
      };
    });
  }

  dashboardMessage(): string {
    const msg: ServerMessage = { type: "dashboard", workshop: { id: this.id, title: this.rec.title, paused: this.paused, ...(this.rec.levels ? { levels: this.rec.levels } : {}) }, teams: this.teams() };
    return JSON.stringify(msg);
  }

  /** Something on the dashboard changed: publish once per window, however many rooms moved. */
  changed(): void {
    if (this.timer || this.watchers.size === 0) return;
    const flush = () => {
      this.timer = null;
      const data = this.dashboardMessage();
      for (const p of this.watchers) p.publish("dashboard", data);
    };
    if (this.timing.dashboardMs <= 0) this.timer = setImmediate(flush);
    else {
      const t = setTimeout(flush, this.timing.dashboardMs);
      t.unref();
      this.timer = t;
    }
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = null;
    this.watchers.clear();
  }
}
