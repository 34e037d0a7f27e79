// Tests that need something this machine may lack (Docker, Chromium, a build) are skipped, never
// dropped: vitest counts them as skipped, and the reason is printed so a reader of the run sees it.

/** True when `reason` says why `what` cannot run here; prints it once. */
export function skipBecause(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  process.stderr.write(`SKIPPED ${what}: ${reason}\n`);
  return true;
}
