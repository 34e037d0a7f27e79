// Choosing where the cluster runs: Docker when an engine answers (DOCKER_HOST honoured), otherwise
// local processes, with the reason said plainly so `lab run` can print it.
import { DockerRuntime, type DockerRuntimeOptions } from './docker/docker-runtime.js';
import { connectEngine, engineAddress, probeEngine } from './docker/engine.js';
import { LocalRuntime, type LocalRuntimeOptions } from './local/local-runtime.js';
import { RuntimeError, type Runtime } from './types.js';

export type RuntimeName = 'docker' | 'local';
export type RuntimeOptions = LocalRuntimeOptions & DockerRuntimeOptions;

export function createRuntime(name: RuntimeName, options: RuntimeOptions = {}): Runtime {
  return name === 'docker' ? new DockerRuntime(options) : new LocalRuntime(options);
}

/**
 * `preference` is the --runtime flag. Docker when asked for or when an engine answers; an explicit
 * docker with no engine is an error (RuntimeError), never a silent fallback.
 */
export async function selectRuntime(
  preference: RuntimeName | undefined,
  options: RuntimeOptions = {},
): Promise<{ runtime: Runtime; reason: string }> {
  if (preference === 'local') {
    return { runtime: new LocalRuntime(options), reason: 'local processes, as asked (--runtime local)' };
  }
  const docker = options.docker ?? connectEngine();
  const problem = await probeEngine(docker);
  if (problem === undefined) {
    const why = preference === 'docker' ? 'as asked (--runtime docker)' : 'an engine answered';
    return {
      runtime: new DockerRuntime({ ...options, docker }),
      reason: `Docker at ${engineAddress()}, ${why}`,
    };
  }
  if (preference === 'docker') {
    throw new RuntimeError(
      `--runtime docker: no Docker engine at ${engineAddress()} (${problem}); start one or use --runtime local`,
    );
  }
  return {
    runtime: new LocalRuntime(options),
    reason: `no Docker engine at ${engineAddress()} (${problem}): using local processes`,
  };
}
