// Talking to the Docker engine through dockerode: connecting (DOCKER_HOST honoured), probing,
// following a build/import progress stream, and running a command inside a container.
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';

/** A client for the engine DOCKER_HOST names, or the local socket. */
export function connectEngine(): Docker {
  // With no options, docker-modem reads DOCKER_HOST (unix://, tcp://, ssh://) and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH.
  return new Docker();
}

export function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Resolves undefined when the engine answers a ping within timeoutMs, else the reason it did not. */
export async function probeEngine(docker: Docker, timeoutMs = 3000): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const ping = docker.ping().then(
    () => undefined,
    (error: unknown) => describeError(error),
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const syscall = (error as NodeJS.ErrnoException).syscall;
    return code !== undefined ? `${syscall ?? 'connect'} ${code}` : error.message;
  }
  return String(error);
}

/** Docker's status code on an API error (404 no such object, 409 conflict, 304 not modified). */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export async function imageExists(docker: Docker, reference: string): Promise<boolean> {
  try {
    await docker.getImage(reference).inspect();
    return true;
  } catch (error) {
    if (statusCode(error) === 404) return false;
    throw error;
  }
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Waits for a build or import stream to end; an error event in it becomes a thrown Error. */
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  what: string,
  onLine?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: ProgressEvent[]) => {
        if (error !== null) return reject(new Error(`${what}: ${error.message}`));
        const failed = events.find((event) => event.error !== undefined || event.errorDetail !== undefined);
        if (failed !== undefined) {
          return reject(new Error(`${what}: ${failed.errorDetail?.message ?? failed.error ?? 'failed'}`));
        }
        resolve();
      },
      (event: ProgressEvent) => {
        const line = (event.stream ?? event.status ?? '').trim();
        if (line.length > 0) onLine?.(line);
      },
    );
  });
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/** Runs a command in a running container and collects its stdout and stderr. */
export async function execIn(
  container: Docker.Container,
  cmd: string[],
  env: string[] = [],
): Promise<ExecResult> {
  const exec = await container.exec({ Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (chunk: Buffer) => (output += chunk.toString()));
  container.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output };
}
