// Argument parsing shared by the subcommands: node's parseArgs, with its
// errors turned into UsageError (one line, exit 2).

import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export function parse<T extends ParseArgsConfig["options"]>(args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/, "") : String(e);
    throw new UsageError(msg.replace(/^Unknown option/, "unknown option"));
  }
}
