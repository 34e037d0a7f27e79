// Ending a command without losing output. process.exit() does not wait for queued writes: on a
// pipe, stdout is asynchronous, so `lab kv get big | wc -c` used to receive 65,536 bytes (one pipe
// buffer) of a 120,000-byte value, with exit 0. Every exit in the command line goes through here.

function drained(stream: NodeJS.WriteStream): Promise<void> {
  // A closed reader (`lab ... | head`) destroys the stream: nothing more can be delivered.
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  // Writes complete in order, so an empty write's callback runs once everything before it is out.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Resolves once everything written so far to stdout and stderr has been handed to the OS. */
export async function flushOutput(): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
}

/**
 * Flushes stdout and stderr, then exits with `code`. For commands that may leave handles open
 * (sockets, timers, child processes) and so cannot wait for the event loop to empty.
 */
export async function exitFlushed(code: number): Promise<never> {
  process.exitCode = code;
  await flushOutput();
  process.exit(code);
}
