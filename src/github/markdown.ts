/** Small Markdown builders for the job summary and PR comments (GitHub-flavoured tables). */

/** Escapes what would break a table cell or start Markdown/HTML inside it. */
export function cell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
}

export function table(headers: string[], rows: unknown[][], align?: ('left' | 'right')[]): string {
  const sep = headers.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [headers.map(cell), sep, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "Name (`id`)", or just the id, unescaped: table() escapes its cells; elsewhere wrap it in cell(). */
export function programLabel(id: string, name?: string): string {
  return name ? `${name} (\`${id}\`)` : `\`${id}\``;
}
