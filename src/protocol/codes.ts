// Close codes and error codes: the part of the protocol a client branches on.
// The 40xx close codes copy Colyseus's table (CONSENTED .. MAY_TRY_RECONNECT)
// and add Faultline's own; 1xxx codes are the WebSocket standard's.

export const CloseCode = {
  /** The client asked to end the session (send it when the player quits). No grace period. */
  CONSENTED: 4000,
  /** The server is shutting down. Rooms are saved; rejoin by room code once it is back. */
  SERVER_SHUTDOWN: 4001,
  /** A protocol violation the server will not talk past (no hello in time). */
  WITH_ERROR: 4002,
  /** The resume token is unknown, already used, or its grace period is over. Join again by room code. */
  FAILED_TO_RECONNECT: 4003,
  /** The client's hello names no protocol version this server speaks. */
  INCOMPATIBLE_PROTOCOL: 4005,
  /** Too many messages, too fast. */
  RATE_LIMITED: 4008,
  /** The server dropped a connection that read too slowly; the seat is kept for the grace period: resume. */
  MAY_TRY_RECONNECT: 4010,
  /** The same player resumed on another connection; this one is closed. Do not reconnect. */
  SESSION_REPLACED: 4011,
  /** The connection said hello, then sent nothing for a long while outside any room or dashboard. Reconnect when needed. */
  IDLE: 4012,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client should resume with its token. */
export const RESUMABLE_CLOSES: readonly number[] = [1001, 1006, 1011, 1012, 1013, CloseCode.MAY_TRY_RECONNECT];

export const ERROR_CODES = [
  // The frame itself.
  "bad-frame", // not JSON, not an object, a binary frame, or a field out of range
  "unknown-type", // a message type this protocol version does not have
  "rate-limited", // over the per-connection message rate or the join-attempt rate
  "hello-first", // anything but hello/ping before hello
  "already-hello",
  "incompatible-protocol",
  "resume-failed",
  // Rooms and seats.
  "no-such-level",
  "no-such-room",
  "room-full",
  "server-full",
  "not-in-room",
  "already-in-room",
  "no-such-cpu",
  "seat-taken",
  "side-required",
  "wrong-side",
  "not-a-player", // a spectator (no seat) sent a game action
  "watch-only", // a watcher (joined with watch) sent a game action, a claim or a release
  "not-your-cpu",
  // Game actions.
  "stale-seq",
  "paused",
  "not-runnable", // from the simulator: the CPU finished, is not forked yet, or the DMA has no buffer
  "bad-choice", // from the simulator: a menu needs a choice, or the choice is not on it
  "bad-action", // from the simulator: no such actor in this level
  "knob-locked",
  "no-such-knob",
  "already-started",
  "no-more-hints",
  "solving", // the explorer is still solving this level setting (hints wait for it); try again shortly
  "nothing-to-rewind",
  "game-over",
  "game-not-over",
  "no-next-level",
  "no-such-attempt",
  // Talk: chat, marks and plans.
  "muted", // the instructor muted this member: their chat is refused
  "bad-mark", // a mark on a line the CPU's listing does not have, or past the room's marks
  "bad-plan", // a plan that does not parse, or does not play from the level's start
  "no-plan", // planStep with no plan, or one played to its end
  "off-plan", // planStep while the trace has left the plan: rewind or reset to get back on it
  // The sandbox.
  "bad-scenario", // a createSandbox scenario that does not make a level (the message names the part and why)
  "not-a-sandbox", // explore or saveSandbox in a room that does not play a sandbox scenario
  "too-big", // the explorer gave up on this scenario (over its state budget or time): play on without it
  // Workshops.
  "no-such-workshop",
  "forbidden",
  "unavailable", // the database cannot be written right now (read-only, full, failing): nothing changed; try again later
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
