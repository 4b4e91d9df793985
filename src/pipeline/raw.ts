import typia, { type tags } from 'typia';

/**
 * The shapes a `.orchest` file may have, as read: the 1.x format and the legacy one
 * (`name` for `title`, numeric or missing `environment`, empty `file_path`). Extra
 * fields are allowed: they are kept in `Pipeline.source`, not rejected.
 */
export interface RawStep {
  uuid: string;
  title?: string;
  name?: string;
  file_path?: string;
  incoming_connections?: string[];
  environment?: string | number | null;
  kernel?: { name?: string | null; display_name?: string | null } | null;
  parameters?: Record<string, unknown>;
  meta_data?: unknown;
}

export interface RawSettings {
  max_steps_parallelism?: number & tags.Type<'uint32'>;
  [key: string]: unknown;
}

export interface RawPipeline {
  name?: string;
  uuid: string;
  version?: string;
  parameters?: Record<string, unknown>;
  settings?: RawSettings;
  services?: Record<string, unknown> | null;
  steps: Record<string, RawStep>;
}

export interface RawIssue {
  path: string;
  expected: string;
  value: unknown;
}

/** typia-generated check of the raw shape; returns the first few problems with clean paths. */
export function checkRawPipeline(input: unknown): RawIssue[] {
  const result = typia.validate<RawPipeline>(input);
  if (result.success) return [];
  return result.errors.map((e) => ({
    path: e.path.replace(/^\$input\.?/, ''),
    expected: e.expected,
    value: e.value,
  }));
}
