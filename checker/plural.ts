// "1 key", "2 keys": counts in messages read right at 1 (the tools used to print "1 runs",
// "41 operations in 1 keys"). Shared by the checker, the lab and the command line.

/** `n` and the noun, singular for exactly 1. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
