// For commands whose library is not built yet: say so plainly and fail, rather than pretend.
import { EXIT_LAB_FAILED } from './exit-codes.js';

export function notBuiltYet(command: string, issue: number): never {
  process.stderr.write(`lab ${command}: not built yet (see issue ${issue}); nothing was done\n`);
  process.exit(EXIT_LAB_FAILED);
}
