/**
 * What an environment id meant when a job was created. Recorded once by the
 * {@link EnvironmentResolver} and stored with the job; every run of the job uses the
 * record, so a host can change its environments without breaking existing jobs.
 */
export interface PinnedEnvironment {
  /** The id steps name in their `environment` field. */
  readonly id: string;
  /** What the record describes: `'local'` interpreters, an `'image'`, a `'sandbox'`, or a host's own kind. */
  readonly kind: string;
  /** Interpreter command per file extension (`{".py": "/usr/bin/python3"}`), for process executors. */
  readonly interpreters?: Readonly<Record<string, readonly string[]>>;
  /** Container image reference and the digest it resolved to. */
  readonly image?: string;
  /** The immutable digest `image` resolved to when the job was created (`sha256:...`); runs use it, so a moved tag does not change a job. */
  readonly digest?: string;
  /** A human-readable version (`Python 3.11.2`). */
  readonly version?: string;
  /** Anything else the host's executor needs; must be JSON-serialisable. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** When it was resolved (epoch ms). */
  readonly resolvedAt: number;
}

/**
 * Maps environment ids to what they mean now. Called once when a job is created; the
 * result is frozen into the job.
 *
 * Must hold: throws (with a clear error) for an id it cannot resolve; the records are
 * JSON-serialisable.
 */
export interface EnvironmentResolver {
  /** Pins each environment id a job's steps name: called once, when the job is created; the records are stored with the job. */
  resolve(ids: readonly string[]): Promise<Record<string, PinnedEnvironment>>;
}
