/** Plain-text table printing for the bench scripts (left column left-aligned, others right). */

export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(header), sep, ...rows.map(fmt)].join('\n');
}

/** `mean ± std` with a fixed number of significant decimals. */
export function pm(mean: number, std: number, digits = 4): string {
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}
