// One line per event on stderr, for an operator: human text by default ("n2 became leader for
// term 7"), or JSON Lines with `--log-format json` for machines. Debug lines only at `--log-level debug`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  readonly debugEnabled: boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  nodeId: string;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const minRank = LEVEL_RANK[options.level];
  const emit = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    if (LEVEL_RANK[level] < minRank) return;
    const time = new Date().toISOString();
    if (options.format === 'json') {
      write(`${JSON.stringify({ time, level, node: options.nodeId, msg: message, ...fields })}\n`);
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ` (${extra})` : ''}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    debugEnabled: minRank === 0,
  };
}

export function parseLogLevel(text: string): LogLevel {
  if (text in LEVEL_RANK) return text as LogLevel;
  throw new Error(`--log-level must be one of debug, info, warn, error (got "${text}")`);
}

export function parseLogFormat(text: string): LogFormat {
  if (text === 'text' || text === 'json') return text;
  throw new Error(`--log-format must be text or json (got "${text}")`);
}
