// What `lab down` did for each runtime: removed, skipped (and why), and where each removed run's node
// logs now are.

export interface DownReport {
  removed: string[];
  skipped: string[];
  /** Per run removed: where its node logs are, saved before anything was removed. */
  logs: RunLogs[];
}

export interface RunLogs {
  runtime: 'local' | 'docker';
  runId: string;
  logDir: string;
  /** node -> log file. */
  written: Record<string, string>;
}
