// Flag value types for commander: each parses one flag's text or throws commander's
// InvalidArgumentError, so a bad value is reported by commander ("option '--nodes <count>'
// argument 'zero' is invalid. expected an integer from 1 to 9") and exits 254 before anything
// starts. `format` turns a value back into the text that would give it (for replay commands).
import { statSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';

export interface FlagType<T> {
  readonly parse: (text: string) => T;
  readonly format: (value: T) => string;
}

function plain<T>(parse: (text: string) => T): FlagType<T> {
  return { parse, format: (value) => (Array.isArray(value) ? value.join(',') : String(value)) };
}

function numberIn(text: string, min: number, max: number, integer: boolean): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max)
    throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return value;
}

export function integer(min: number, max: number): FlagType<number> {
  return plain((text) => numberIn(text, min, max, true));
}

export function decimal(min: number, max: number): FlagType<number> {
  return plain((text) => numberIn(text, min, max, false));
}

/** Typed in seconds, held in milliseconds. */
export function secondsAsMs(min: number, max: number): FlagType<number> {
  return {
    parse: (text) => Math.round(numberIn(text, min, max, false) * 1000),
    format: (ms) => String(ms / 1000),
  };
}

export const port: FlagType<number> = integer(1, 65_535);

/** A comma list of names from `valid`; `countMin` 0 allows an empty list. */
export function listOf<T extends string>(valid: readonly T[], countMin = 1): FlagType<T[]> {
  return plain((text) => {
    const names = text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const unknown = names.filter((name) => !(valid as readonly string[]).includes(name));
    if (unknown.length > 0)
      throw new InvalidArgumentError(`unknown "${unknown.join('", "')}"; valid: ${valid.join(', ')}`);
    if (names.length < countMin)
      throw new InvalidArgumentError(`expected at least one of ${valid.join(', ')}`);
    return names as T[];
  });
}

/** A name that is safe as one folder and in container names: no separators, no "..". */
export const safeName: FlagType<string> = plain((text) => {
  const name = text.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || name.includes('..'))
    throw new InvalidArgumentError(
      "expected 1 to 64 letters, digits, '.', '_' or '-' (a letter or digit first, no '..')",
    );
  return name;
});

export const nonEmpty: FlagType<string> = plain((text) => {
  if (text.trim() === '') throw new InvalidArgumentError('expected a value, got an empty one');
  return text;
});

/** A library's own parser (which throws a plain Error) as a flag type. */
export function fromLibrary<T>(parse: (text: string) => T): FlagType<T> {
  return plain((text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  });
}

/**
 * A commander option parsed by `type`; a default is parsed through the same type and shown in
 * --help as typed (commander would quote a string default: `(default: "all")`).
 */
export function option<T>(flags: string, help: string, type: FlagType<T>, defaultText?: string): Option {
  const result = new Option(flags, help).argParser((text: string) => type.parse(text));
  if (defaultText !== undefined) result.default(type.parse(defaultText), defaultText);
  return result;
}

/** A free-text option whose default --help shows as typed. */
export function text(flags: string, help: string, defaultText: string): Option {
  return new Option(flags, help).default(defaultText, defaultText);
}

/** An option limited to fixed words, with commander's own check and message. */
export function choice(flags: string, help: string, words: readonly string[], defaultText?: string): Option {
  const result = new Option(flags, help).choices(words);
  if (defaultText !== undefined) result.default(defaultText, defaultText);
  return result;
}

/**
 * What is wrong with a folder flag's path, or undefined: it may not exist yet (the command makes
 * it), but a file there, or on the way there, would only fail later with "EEXIST: mkdir".
 */
export function folderProblem(flag: string, path: string): string | undefined {
  try {
    if (!statSync(path).isDirectory()) return `${flag} ${path} is a file, not a folder`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return `${flag} ${path} is under a file, not a folder`;
    if (code !== 'ENOENT') return `${flag} ${path}: ${(error as Error).message}`;
  }
  return undefined;
}
