// The latest refusal, notice or hint, on one line; symbols carry the kind.

import { Text } from "ink";
import type { Flash } from "../model/store.js";

const MARK: Record<Flash["kind"], string> = { error: "✗", notice: "✉", info: "•" };

export function StatusLine({ flash, fallback }: { flash: Flash | null; fallback?: string }) {
  if (!flash) return <Text wrap="truncate-end">{fallback ?? " "}</Text>;
  return (
    <Text color={flash.kind === "error" ? "red" : flash.kind === "notice" ? "magenta" : "cyan"} wrap="truncate-end">
      {MARK[flash.kind]} {flash.text}
    </Text>
  );
}

/** A line being typed in place of the status line (the level id a sandbox scenario is saved as). */
export function PromptLine({ label, text, hint }: { label: string; text: string; hint: string }) {
  return (
    <Text wrap="truncate-end">
      {label}: {text}▏ ({hint})
    </Text>
  );
}
