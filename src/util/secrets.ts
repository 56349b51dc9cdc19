/**
 * Every secret the tool learns (password, token, GitHub token) is registered here at the edge. The runner
 * masks its own log through core.setSecret, but the job summary, report files, PR comments and CLI output
 * are written by us, so everything we write passes through redact().
 */
const secrets = new Set<string>();
const listeners: ((secret: string) => void)[] = [];

export function registerSecret(value: string | undefined): void {
  if (!value || secrets.has(value)) return;
  secrets.add(value);
  for (const listener of listeners) listener(value);
}

/**
 * Also tells `listener` of every secret, past and future: the action masks them in the runner's log
 * (core.setSecret), including derived ones such as the Basic auth header value.
 */
export function onSecret(listener: (secret: string) => void): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

export function registeredSecrets(): readonly string[] {
  return [...secrets];
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length < 3) continue; // masking "a" everywhere would destroy the text and reveal nothing useful
    out = out.split(s).join('***');
  }
  return out;
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear();
}
