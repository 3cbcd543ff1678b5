// `faultline results --workshop ID`: a workshop's finished attempts, from the
// server's database (SQLite, or PostgreSQL with --postgres), as a table, CSV or JSON.

import { existsSync } from "node:fs";
import { SqliteStorage, type ResultRow, type Storage } from "../../server/index.js";
import { redactUrl } from "../../server/url.js";
import { defaultDbPath, postgresUrl } from "./db.js";
import { parse, UsageError } from "./usage.js";

const COLUMNS: (keyof ResultRow)[] = [
  "workshop", "team", "room", "attempt", "level", "knobs", "outcome", "reason", "steps", "par",
  "hints", "hintsReleased", "rewinds", "resets", "durationMs", "score", "players", "startedAt", "endedAt",
];

export async function cmdResults(args: string[]): Promise<number> {
  const { values } = parse(args, { workshop: { type: "string" }, db: { type: "string" }, postgres: { type: "string" }, schema: { type: "string" }, csv: { type: "boolean" }, json: { type: "boolean" } }, false);
  if (!values.workshop) throw new UsageError("results needs --workshop ID (the id the instructor got when creating the workshop)");
  if (values.csv && values.json) throw new UsageError("choose one of --csv and --json");
  const id = values.workshop.toUpperCase();
  const postgres = postgresUrl(values.postgres, values.db);
  let storage: Storage;
  let where: string;
  if (postgres) {
    // Loaded only for --postgres: a SQLite user never needs pg.
    const { PgStorage } = await import("../../server/storage/postgres.js");
    where = redactUrl(postgres);
    try {
      storage = await PgStorage.open(postgres, values.schema !== undefined ? { schema: values.schema } : {});
      await storage.load!({ workshops: [id], results: [id] });
    } catch (e) {
      throw new UsageError(`cannot read PostgreSQL at ${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else {
    const db = values.db ?? defaultDbPath();
    if (!existsSync(db)) throw new UsageError(`no database at ${db} (pass --db FILE, the file faultline serve used, or --postgres URL)`);
    storage = new SqliteStorage(db, { mustExist: true });
    where = db;
  }
  try {
    const w = storage.getWorkshop(id);
    if (!w) throw new UsageError(`no workshop ${values.workshop} in ${where}`);
    const rows = storage.results(id);
    if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    else if (values.csv) process.stdout.write(toCsv(rows));
    else process.stdout.write(toTable(w.title, rows));
    return 0;
  } finally {
    await storage.close();
  }
}

/** RFC 4180, with cells that a spreadsheet would run as a formula defused. */
export function toCsv(rows: ResultRow[]): string {
  const cell = (v: unknown): string => {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && typeof v === "string") s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(","), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}

function toTable(title: string, rows: ResultRow[]): string {
  if (rows.length === 0) return `${title}: no finished attempts yet.\n`;
  const head = ["team", "room", "level", "outcome", "steps/par", "hints", "rewinds", "time", "score"];
  const body = rows.map((r) => [
    r.team ?? "-",
    r.room,
    r.level,
    r.outcome,
    `${r.steps}/${r.par ?? "-"}`,
    String(r.hints),
    String(r.rewinds),
    `${(r.durationMs / 1000).toFixed(1)} s`,
    String(r.score),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  const total = new Map<string, number>();
  for (const r of rows) total.set(r.team ?? r.room, (total.get(r.team ?? r.room) ?? 0) + r.score);
  const totals = [...total].sort((a, b) => b[1] - a[1]).map(([t, s]) => `${t} ${s}`).join(", ");
  return `${title}\n\n${line(head)}\n${body.map(line).join("\n")}\n\n${rows.length} finished attempt${rows.length === 1 ? "" : "s"}; total score by team: ${totals}\n`;
}
