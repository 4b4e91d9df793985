/**
 * A manifest is one file per snapshot: a JSON header line (the record), then one JSON
 * array per entry, sorted by path. The header carries `treeHash`, the SHA-256 of the entry
 * lines, which both identifies the tree and detects a damaged manifest. `list()` reads only
 * header lines.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';
import type { SkippedEntry, StoredSnapshotRecord } from './types.js';

export const MANIFEST_FORMAT = 'pipeline-jobs/snapshot@1';

/** A regular file: its content is the object `hash`. `mode` holds the permission bits. */
export interface FileEntry {
  /** A regular file. */
  readonly type: 'file';
  /** Relative to the project root, `/`-separated. */
  readonly path: string;
  /** Permission bits (`0o755`). */
  readonly mode: number;
  /** Size in bytes. */
  readonly size: number;
  /** SHA-256 of the content (hex): the object's name in the store. */
  readonly hash: string;
}
/** A symlink, stored as its target text. */
export interface LinkEntry {
  /** A symbolic link. */
  readonly type: 'symlink';
  /** Relative to the project root, `/`-separated. */
  readonly path: string;
  /** The link's target text, as read (relative, inside the project). */
  readonly target: string;
}
/** A directory with nothing else in the snapshot (kept so the working copy has it). */
export interface DirEntry {
  /** An otherwise empty directory. */
  readonly type: 'dir';
  /** Relative to the project root, `/`-separated. */
  readonly path: string;
}
/** One entry of a snapshot's manifest: a file, a symlink or an empty directory. */
export type ManifestEntry = FileEntry | LinkEntry | DirEntry;

export interface Manifest {
  readonly record: StoredSnapshotRecord;
  readonly entries: readonly ManifestEntry[];
}

interface Header extends StoredSnapshotRecord {
  readonly format: string;
  readonly entryCount: number;
}

function entryLine(e: ManifestEntry): string {
  // Only the path and link target need escaping; numbers and hex hashes are safe as they are.
  if (e.type === 'file') return `[${JSON.stringify(e.path)},"f",${e.mode},${e.size},"${e.hash}"]`;
  if (e.type === 'symlink') return `[${JSON.stringify(e.path)},"l",${JSON.stringify(e.target)}]`;
  return `[${JSON.stringify(e.path)},"d"]`;
}

function byPath(a: ManifestEntry, b: ManifestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Sorts the entries and returns their text and its hash (the tree hash). */
export function encodeEntries(entries: ManifestEntry[]): { text: string; treeHash: string; sorted: ManifestEntry[] } {
  const sorted = [...entries].sort(byPath);
  const text = sorted.map((e) => `${entryLine(e)}\n`).join('');
  return { text, treeHash: createHash('sha256').update(text).digest('hex'), sorted };
}

/** The whole manifest file for a record and the encoded entries. */
export function manifestText(record: StoredSnapshotRecord, entriesText: string, entryCount: number): string {
  const header: Header = { format: MANIFEST_FORMAT, ...record, entryCount };
  return `${JSON.stringify(header)}\n${entriesText}`;
}

function corrupt(id: string, why: string, cause?: unknown): Error {
  return snapshotError(SnapshotErrorCode.CORRUPT, `The manifest of snapshot ${id} is damaged: ${why}`, {
    path: 'id',
    value: id,
    hint: 'delete the snapshot and take a new one',
    cause,
  });
}

function toRecord(header: Header): StoredSnapshotRecord {
  return {
    id: header.id,
    createdAt: header.createdAt,
    sourceDir: header.sourceDir,
    fileCount: header.fileCount,
    logicalBytes: header.logicalBytes,
    newBytes: header.newBytes,
    pipelines: header.pipelines,
    treeHash: header.treeHash,
    skipped: header.skipped as readonly SkippedEntry[],
  };
}

function parseHeader(line: string, id: string): Header {
  let header: Header;
  try {
    header = JSON.parse(line) as Header;
  } catch (e) {
    throw corrupt(id, 'the header is not JSON', e);
  }
  if (header === null || typeof header !== 'object' || header.format !== MANIFEST_FORMAT || header.id !== id) {
    throw corrupt(id, `unknown format ${JSON.stringify((header as { format?: unknown } | null)?.format)}`);
  }
  return header;
}

/** Reads only the header line of a manifest file; `undefined` when the file is gone. */
export function readRecord(file: string, id: string): StoredSnapshotRecord | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    // Not there (never was, or deleted meanwhile): the caller reports "no such snapshot".
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw corrupt(id, 'no header line');
      const nl = buf.subarray(0, n).indexOf(0x0a);
      chunks.push(Buffer.from(buf.subarray(0, nl === -1 ? n : nl)));
      if (nl !== -1) break;
    }
    return toRecord(parseHeader(Buffer.concat(chunks).toString('utf8'), id));
  } finally {
    closeSync(fd);
  }
}

function parseEntry(a: unknown[]): ManifestEntry {
  const [p, t] = a as [string, string];
  if (t === 'f') return { type: 'file', path: p, mode: a[2] as number, size: a[3] as number, hash: a[4] as string };
  if (t === 'l') return { type: 'symlink', path: p, target: a[2] as string };
  return { type: 'dir', path: p };
}

/** Reads and checks a whole manifest; `undefined` when the file is gone. */
export async function readManifest(file: string, id: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    // Deleted (or never there): the caller reports "no such snapshot".
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  const nl = text.indexOf('\n');
  if (nl === -1) throw corrupt(id, 'no header line');
  const header = parseHeader(text.slice(0, nl), id);
  const body = text.slice(nl + 1);
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== header.treeHash) throw corrupt(id, 'its entries do not match its tree hash');
  let rows: unknown[][];
  try {
    rows = JSON.parse(`[${body.slice(0, -1).split('\n').join(',')}]`) as unknown[][];
  } catch (e) {
    throw corrupt(id, 'an entry is not JSON', e);
  }
  if (rows.length !== header.entryCount) throw corrupt(id, `${rows.length} entries, expected ${header.entryCount}`);
  // Frozen: manifests are cached and shared between callers.
  return { record: toRecord(header), entries: Object.freeze(rows.map((r) => Object.freeze(parseEntry(r)))) };
}
