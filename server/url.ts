// Connection strings in logs and messages: never with their password.

/** The URL with its password replaced by *** (or a placeholder if it does not parse). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}
