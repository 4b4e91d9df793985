import { OptionsError } from '../errors.js';
import type { SnapshotRecord, Snapshots } from '../snapshot/port.js';

/**
 * The snapshots of a scheduler given none: it runs jobs defined in code without a project
 * directory, which never take or read a snapshot. Anything that would (a job with a
 * `projectDir`, or a run of one created by another process) fails with a typed error
 * naming the missing option, rather than a `TypeError`. Listing finds nothing.
 */
export class NoSnapshots implements Snapshots {
  create(projectDir: string): Promise<SnapshotRecord> {
    return Promise.reject(missing('A job with a project directory needs a snapshot store', projectDir));
  }

  get(id: string): Promise<SnapshotRecord | undefined> {
    return Promise.reject(missing('A job with a project snapshot needs a snapshot store to run', id));
  }

  list(): Promise<SnapshotRecord[]> {
    return Promise.resolve([]);
  }

  readFile(id: string): Promise<Buffer> {
    return Promise.reject(missing('A job with a project snapshot needs a snapshot store', id));
  }

  materialize(id: string): Promise<void> {
    return Promise.reject(missing('A job with a project snapshot needs a snapshot store to run', id));
  }

  delete(id: string): Promise<void> {
    return Promise.reject(missing('A job with a project snapshot needs a snapshot store to delete it', id));
  }
}

function missing(message: string, value: string): OptionsError {
  return new OptionsError('OPTIONS_MISSING', message, {
    path: 'snapshots',
    value,
    hint: 'Give the JobScheduler a snapshots store (new SnapshotStore({ root })), or define the job in code without a projectDir',
  });
}
