// Protocol version negotiation. A client names the versions it speaks in the
// WebSocket subprotocol header (faultline.v1, ...) and, authoritatively, in its
// hello message; the server answers with the one it picked or closes with
// INCOMPATIBLE_PROTOCOL. Bump the version for any change an old peer would
// misread (a renamed field, a changed meaning); adding an optional field or a
// new message type that old clients may ignore does not need a bump.

export const PROTOCOL_VERSION = 1;

/** This server's version (package.json's), named in `welcome.server`. */
export const SERVER_VERSION = "0.2.0";
export const SUPPORTED_PROTOCOLS: readonly number[] = [1];

/** The WebSocket subprotocol token for a protocol version. */
export const subprotocol = (v: number): string => `faultline.v${v}`;

/** The highest version both sides speak, or null. */
export function negotiate(offered: readonly number[]): number | null {
  const common = offered.filter((v) => SUPPORTED_PROTOCOLS.includes(v));
  return common.length ? Math.max(...common) : null;
}
