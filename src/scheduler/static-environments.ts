import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Clock } from '../clock.js';
import { SystemClock } from '../clock.js';
import type { EnvironmentResolver, PinnedEnvironment } from '../environment.js';
import { OptionsError } from '../errors.js';

const run = promisify(execFile);

/** How the host defines one environment for {@link StaticEnvironmentResolver}. */
export interface EnvironmentDefinition {
  /** What the pinned record describes (`'local'`, `'image'`, `'sandbox'`, or a host's own kind). @default 'local' */
  kind?: string;
  /**
   * Interpreter command per file extension; the first word is resolved to its real path and version at pin time.
   * @default {} (the executor's own commands)
   */
  interpreters?: Record<string, string[]>;
  /** A container image reference, for container executors. @default undefined */
  image?: string;
  /** Resolves the image to a digest at pin time (e.g. by asking the registry). @default undefined (no digest pinned) */
  resolveDigest?: (image: string) => Promise<string>;
  /** Anything else the host's executor needs, copied into the pinned record; must be JSON-serialisable. @default undefined */
  details?: Record<string, unknown>;
}

/** Options of {@link StaticEnvironmentResolver}. */
export interface StaticEnvironmentResolverOptions {
  /** The environments by id. */
  environments: Record<string, EnvironmentDefinition>;
  /**
   * What an id that is not listed means; `undefined` refuses unknown ids (a job using
   * one is not created).
   * @default undefined
   */
  fallback?: EnvironmentDefinition;
  /** Stamps each record's `resolvedAt`. @default new SystemClock() */
  clock?: Clock;
}

/**
 * Maps environment ids to definitions the host gives, and pins them: each interpreter's
 * real path (symlinks resolved) and `--version` output, each image's digest, recorded at
 * job creation. A job keeps running what it was created with after the host changes
 * its environments.
 */
export class StaticEnvironmentResolver implements EnvironmentResolver {
  readonly #o: StaticEnvironmentResolverOptions;
  readonly #clock: Clock;

  /**
   * Keeps a copy of the definitions; nothing is pinned until `resolve`.
   * @param options the environments by id, and what an unlisted id means
   * @throws {@link OptionsError} `OPTIONS_INVALID` when `environments` is not an object
   */
  constructor(options: StaticEnvironmentResolverOptions) {
    if (!options || typeof options.environments !== 'object' || options.environments === null) {
      throw new OptionsError('OPTIONS_INVALID', 'StaticEnvironmentResolver needs `environments`', { path: 'environments', value: options?.environments });
    }
    this.#o = { ...options, environments: { ...options.environments } };
    this.#clock = options.clock ?? new SystemClock();
  }

  /**
   * Pins each id: its interpreters' real paths and versions, its image's digest.
   * @throws {@link OptionsError} `ENVIRONMENT_UNKNOWN` for an id neither listed nor covered by a fallback,
   *   `ENVIRONMENT_INVALID` for an interpreter without a command, `ENVIRONMENT_INTERPRETER_MISSING` for one
   *   that is not installed
   */
  async resolve(ids: readonly string[]): Promise<Record<string, PinnedEnvironment>> {
    const out: Record<string, PinnedEnvironment> = {};
    for (const id of ids) {
      const def = this.#o.environments[id] ?? this.#o.fallback;
      if (!def) {
        throw new OptionsError('ENVIRONMENT_UNKNOWN', `No environment "${id}" is defined`, {
          path: 'environment',
          value: id,
          hint: `Known: ${Object.keys(this.#o.environments).join(', ') || '(none)'}; or give a fallback`,
        });
      }
      out[id] = await this.#pin(id, def);
    }
    return out;
  }

  async #pin(id: string, def: EnvironmentDefinition): Promise<PinnedEnvironment> {
    const interpreters: Record<string, string[]> = {};
    const versions: string[] = [];
    for (const [ext, argv] of Object.entries(def.interpreters ?? {})) {
      const [cmd, ...rest] = argv;
      if (!cmd) throw new OptionsError('ENVIRONMENT_INVALID', 'An interpreter needs a command', { path: `environments.${id}.interpreters.${ext}`, value: argv });
      const real = await resolveCommand(cmd, id, ext);
      interpreters[ext] = [real, ...rest];
      versions.push(`${ext}: ${await versionOf(real)}`);
    }
    const digest = def.image && def.resolveDigest ? await def.resolveDigest(def.image) : undefined;
    return {
      id,
      kind: def.kind ?? 'local',
      ...(Object.keys(interpreters).length > 0 ? { interpreters } : {}),
      ...(def.image === undefined ? {} : { image: def.image }),
      ...(digest === undefined ? {} : { digest }),
      ...(versions.length > 0 ? { version: versions.join('; ') } : {}),
      ...(def.details === undefined ? {} : { details: structuredClone(def.details) }),
      resolvedAt: this.#clock.now(),
    };
  }
}

async function resolveCommand(cmd: string, id: string, ext: string): Promise<string> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v -- "$1" && readlink -f -- "$(command -v -- "$1")"', 'sh', cmd]);
    const lines = stdout.trim().split('\n');
    return lines[lines.length - 1] || cmd;
  } catch (err) {
    throw new OptionsError('ENVIRONMENT_INTERPRETER_MISSING', `The interpreter "${cmd}" is not installed`, {
      path: `environments.${id}.interpreters.${ext}`,
      value: cmd,
      hint: 'Install it or fix the command',
      cause: err,
    });
  }
}

async function versionOf(real: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(real, ['--version'], { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? 'unknown';
  } catch (err) {
    // Some interpreters have no --version; the path alone is still pinned.
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}
