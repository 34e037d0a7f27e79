// `lab serve`: the runs under the store as a web page (chaos/serve/).
import type { Command } from 'commander';
import { startServe } from '../../chaos/serve/server.js';
import { exitFlushed } from '../exit.js';
import { EXIT_BAD_ARGUMENTS } from '../exit-codes.js';
import { integer, option, text } from '../parsers.js';

interface ServeFlags {
  host: string;
  port: number;
  store: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('browse the runs under histories/ in a web page (reports, counterexamples, files, zips)')
    .addOption(text('--host <host>', 'address to listen on', '127.0.0.1'))
    .addOption(option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65_535), '8080'))
    .addOption(text('--store <dir>', 'the folder of runs', 'histories'))
    .action(async (flags: ServeFlags) => {
      let server;
      try {
        server = await startServe({ store: flags.store, host: flags.host, port: flags.port });
      } catch (error) {
        process.stderr.write(`lab serve: ${(error as Error).message}\n`);
        return exitFlushed(EXIT_BAD_ARGUMENTS);
      }
      process.stdout.write(`lab serve: serving ${flags.store} at ${server.url} (Ctrl-C to stop)\n`);
      const stop = (): void => void server.close().then(() => exitFlushed(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
