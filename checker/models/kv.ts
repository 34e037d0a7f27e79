// The key-value model: one key's value (null = absent) under get, put, delete, cas and append.
import { hashString, quote, type Model, type OpInput, type OpOutput, type Operation } from '../model.js';

export type KvState = string | null;

export interface KvModelOptions {
  /**
   * Porcupine's kv histories treat an absent key as the empty string (a get of a new key reads
   * ""). With this set, absent and "" are the same state, so both readings are accepted.
   */
  absentIsEmpty?: boolean;
}

export function kvModel(options: KvModelOptions = {}): Model<KvState> {
  const absent: KvState = options.absentIsEmpty === true ? '' : null;
  const norm = (v: string | null | undefined): KvState => (v === null || v === undefined ? absent : v);
  return {
    name: options.absentIsEmpty === true ? 'kv (absent = "")' : 'kv',
    init: () => absent,
    step: (state, input, output) => stepKv(state, input, output, norm),
    readOnly: (input, output) =>
      !output.unknown && (input.f === 'get' || (input.f === 'cas' && output.matched === false)),
    equal: (a, b) => a === b,
    hash: (s) => (s === null ? 0x9e3779b9 : hashString(s)),
    partition: partitionByKey,
    describeOperation,
    describeState: (s) => quote(s),
  };
}

function stepKv(
  state: KvState,
  input: OpInput,
  output: OpOutput,
  norm: (v: string | null | undefined) => KvState,
): KvState | undefined {
  switch (input.f) {
    case 'get':
      // A get without a known result changes nothing and constrains nothing.
      return output.unknown || norm(output.value) === state ? state : undefined;
    case 'put':
      return norm(input.value);
    case 'delete':
      return norm(null);
    case 'append': {
      const after = (state ?? '') + (input.value ?? '');
      if (!output.unknown && output.value !== undefined && norm(output.value) !== after) return undefined;
      return after;
    }
    case 'cas': {
      const matches = norm(input.expected) === state;
      if (output.unknown) return matches ? norm(input.value) : state;
      if (output.matched === false) return matches ? undefined : state;
      return matches ? norm(input.value) : undefined;
    }
  }
}

export function partitionByKey(operations: readonly Operation[]): Map<string, Operation[]> {
  const parts = new Map<string, Operation[]>();
  for (const op of operations) {
    let list = parts.get(op.input.key);
    if (list === undefined) parts.set(op.input.key, (list = []));
    list.push(op);
  }
  return parts;
}

export function describeOperation(input: OpInput, output: OpOutput): string {
  const tail = output.unknown ? ' -> ?' : '';
  switch (input.f) {
    case 'get':
      return `get ${output.unknown ? '-> ?' : `-> ${quote(output.value)}`}`;
    case 'put':
      return `put ${quote(input.value)}${tail}`;
    case 'delete':
      return `delete${tail}`;
    case 'append':
      return `append ${quote(input.value)}${output.value !== undefined && !output.unknown ? ` -> ${quote(output.value)}` : tail}`;
    case 'cas': {
      const result = output.unknown ? '?' : output.matched === false ? 'mismatch' : 'ok';
      return `cas ${quote(input.expected)} -> ${quote(input.value)} (${result})`;
    }
  }
}
