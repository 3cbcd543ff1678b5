// The wire protocol shared by the server and its clients: versions, close and
// error codes, and zod schemas for every message in both directions.
export * from "./client.js";
export * from "./codes.js";
export * from "./server.js";
export * from "./version.js";
