import type { Command } from 'commander';
import { startServe } from '../../chaos/serve/server.js';
import { EXIT_BAD_ARGUMENTS } from '../exit-codes.js';

interface ServeFlags {
  host: string;
  port: string;
  store: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('browse the runs under histories/ in a web page (reports, counterexamples, files, zips)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--store <dir>', 'the folder of runs', 'histories')
    .action(async (flags: ServeFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`lab serve: --port must be a port number (got "${flags.port}")\n`);
        process.exit(EXIT_BAD_ARGUMENTS);
      }
      let server;
      try {
        server = await startServe({ store: flags.store, host: flags.host, port });
      } catch (error) {
        process.stderr.write(`lab serve: ${(error as Error).message}\n`);
        process.exit(EXIT_BAD_ARGUMENTS);
      }
      process.stdout.write(`lab serve: serving ${flags.store} at ${server.url} (Ctrl-C to stop)\n`);
      const stop = (): void => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
