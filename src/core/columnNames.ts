/**
 * Column names that look like a known one: the same letters and digits ignoring case, spaces,
 * '_' and '-' ("Cost", "current price", "min-price"), or one edit away for names of five or more
 * letters ("curent_price", "max_prise"). The readers use it to turn a misspelt optional column,
 * which would otherwise be ignored in silence, into an error that names the intended column.
 */
const norm = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '');

/** Levenshtein distance, stopped early once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** The known name `name` most likely stands for, or undefined when it looks like none of them. */
export function lookalike(name: string, known: readonly string[]): string | undefined {
  const n = norm(name);
  if (n === '') return undefined;
  for (const k of known) if (k !== name && norm(k) === n) return k;
  if (n.length < 5) return undefined;
  for (const k of known) if (k !== name && editDistance(n, norm(k), 1) <= 1) return k;
  return undefined;
}
