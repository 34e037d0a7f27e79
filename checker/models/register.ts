// A single compare-and-set register, as in the Jepsen etcd histories: read (get), write (put) and
// cas; the register starts empty (nil). Keys are ignored: the whole history is one register.
import type { Model, Operation } from '../model.js';
import { kvModel, type KvState } from './kv.js';

export function registerModel(): Model<KvState> {
  const kv = kvModel();
  return {
    ...kv,
    name: 'register',
    step: (state, input, output) => {
      if (input.f === 'delete' || input.f === 'append') return undefined;
      return kv.step(state, input, output);
    },
    partition: (operations: readonly Operation[]) => new Map([['register', [...operations]]]),
  };
}
