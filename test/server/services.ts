// The real PostgreSQL and Redis the cluster tests use (this project's machines
// and CI run both on loopback). Every test run works in its own PostgreSQL
// schema and under its own Redis key prefix, and removes them afterwards, so
// test files running in parallel and repeated runs never meet.

import { randomBytes } from "node:crypto";
import { PgStorage, type PgOptions } from "../../server/storage/postgres.js";

export const PG_URL = process.env.FAULTLINE_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.FAULTLINE_TEST_REDIS ?? "redis://127.0.0.1:6379";

/** A name no other test run uses: t_<pid>_<random>. */
export function uniqueName(prefix = "t"): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString("hex")}`;
}

/** A PostgreSQL store in a fresh schema of its own; drop() removes the schema. */
export async function pgStore(schema = uniqueName("fl"), opts: PgOptions = {}): Promise<PgStorage> {
  return PgStorage.open(PG_URL, { schema, ...opts });
}
