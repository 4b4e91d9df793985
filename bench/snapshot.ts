/**
 * SnapshotStore against the tools it replaces, on one generated project (issue 3):
 * ~20,000 included files / ~480 MB, nested .gitignore files, and an ignored
 * node_modules/ of 50,000 small files. Baselines run in the same process, interleaved
 * with ours, on the same file list: `cp -a` of the included files, `rsync -a` with the
 * project's ignore files. Medians of 3 with ranges.
 *
 *   npx tsx bench/snapshot.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, mkdirSync, mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { SnapshotStore } from '../src/snapshot/index.js';

const RUNS = 3;
const base = mkdtempSync(path.join(tmpdir(), 'pj-snapbench-'));
const project = path.join(base, 'project');
const listFile = path.join(base, 'files.nul');
let seq = 0;
const fresh = (label: string): string => path.join(base, `${label}-${seq++}`);

// ---------------------------------------------------------------- the project
function generate(): void {
  const pool = randomBytes(24 << 20);
  let state = 0x9e3779b9;
  const rnd = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const write = (rel: string, size: number, content?: Buffer): void => {
    const abs = path.join(project, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    let buf = content;
    if (buf === undefined) {
      const off = Math.floor(rnd() * (pool.length - size - 64));
      buf = Buffer.from(pool.subarray(off, off + size));
      buf.write(`${rel}\n`.padEnd(Math.min(size, 64), '#'), 0);
    }
    writeFileSync(abs, buf);
  };
  writeFileSync(path.join(project, '.gitignore'), 'node_modules/\n*.log\n__pycache__/\n');
  // 18,950 source-like files of 1-20 KB in 40 modules x 10 packages, each module with its own .gitignore.
  for (let m = 0; m < 40; m++) {
    write(`src/mod${m}/.gitignore`, 0, Buffer.from('*.pyc\n!keep.pyc\nbuild/\n'));
    write(`src/mod${m}/build/out.o`, 100); // ignored
    write(`src/mod${m}/x.pyc`, 100); // ignored
  }
  for (let i = 0; i < 18_950 - 40; i++) write(`src/mod${i % 40}/pkg${(i >> 3) % 10}/f${i}.py`, 1024 + Math.floor(rnd() * 19 * 1024));
  for (let i = 0; i < 10; i++) write(`pipelines/p${i}.orchest`, 2000);
  // 50 big files of 1-10 MB.
  for (let i = 0; i < 50; i++) write(`assets/big${i}.bin`, (1 + Math.floor(rnd() * 10)) << 20);
  // 1,000 duplicates of 20 contents.
  const dups = Array.from({ length: 20 }, (_, i) => Buffer.from(pool.subarray(i * 9000, i * 9000 + 8000)));
  for (let i = 0; i < 1000; i++) write(`vendor/d${i % 25}/copy${i}.txt`, 0, dups[i % 20]);
  // The ignored node_modules/: 50,000 small files.
  for (let i = 0; i < 50_000; i++) {
    const abs = path.join(project, `node_modules/pkg${i % 1000}/lib/f${i}.js`);
    if (i < 1000) mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, `module.exports = ${i};\n`.repeat(1 + (i % 20)));
  }
}

// ---------------------------------------------------------------- measuring
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}
function sh(cmd: string, args: string[], cwd = base): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString()}`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (xs: number[]): string => `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir]).toString().split('\t')[0]) * 1024;
}

function sync(): void {
  sh('sync', []);
}
function cpA(dest: string): void {
  mkdirSync(dest);
  sh('sh', ['-c', `xargs -0 -a "${listFile}" cp -a --parents -t "${dest}"`], project);
}
function rsync(dest: string): void {
  sh('rsync', ['-a', `--filter=:- .gitignore`, `${project}/`, `${dest}/`]);
}

function reflinks(): string {
  const a = path.join(base, 'probe-a');
  writeFileSync(a, 'x');
  try {
    copyFileSync(a, `${a}-clone`, constants.COPYFILE_FICLONE_FORCE);
    return 'supported';
  } catch {
    // Any failure of a forced clone means: no reflinks on this file system.
    return 'not supported';
  } finally {
    rmSync(`${a}-clone`, { force: true });
    unlinkSync(a);
  }
}

async function main(): Promise<void> {
  const fsStat = statfsSync(tmpdir());
  const freeGb = (fsStat.bavail * fsStat.bsize) / 2 ** 30;
  console.log(`# SnapshotStore benchmark\n\nscratch: ${base} (${freeGb.toFixed(0)} GiB free)`);
  if (freeGb < 12) {
    console.log('Not enough free disk for the benchmark (needs about 12 GiB); nothing measured.');
    rmSync(base, { recursive: true, force: true });
    return;
  }
  mkdirSync(project);
  const tGen = time(() => generate());
  // The included file list, from git itself (its .git is removed long before any timing).
  sh('git', ['init', '-q', '.'], project);
  const list = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: project, maxBuffer: 1 << 26 });
  rmSync(path.join(project, '.git'), { recursive: true, force: true });
  writeFileSync(listFile, list);
  const included = list.toString().split('\0').filter(Boolean).length;
  const includedBytes = duBytes(project) - duBytes(path.join(project, 'node_modules'));
  console.log(`generated in ${tGen.toFixed(1)} s: ${included} included files (~${(includedBytes / 1e6).toFixed(0)} MB on disk), 50,000 ignored in node_modules/`);
  // Warm-up: read everything once, and start threads once.
  sh('sh', ['-c', `xargs -0 -a "${listFile}" cat > /dev/null`], project);
  const snapList = await (async () => {
    const warm = new SnapshotStore({ root: fresh('warm-store') });
    const rec = await warm.create(project);
    return (await warm.entries(rec.id)).filter((e) => e.type !== 'dir').length;
  })();

  const cp: number[] = [];
  const rs: number[] = [];
  const create: number[] = [];
  const mat: number[] = [];
  // Only directories are kept between steps, not store instances (whose manifest caches
  // would make the process's heap, and so every later garbage collection, bigger).
  let lastRoot = '';
  let lastId = '';
  // Each timed step starts after `sync`, so none pays for the previous one's writeback; the
  // order rotates between rounds.
  const steps: Array<() => Promise<void>> = [
    async () => void cp.push(time(() => cpA(fresh('cp')))),
    async () => void rs.push(time(() => rsync(fresh('rsync')))),
    async () => {
      const store = new SnapshotStore({ root: fresh('store') });
      lastRoot = store.root;
      create.push(await timeAsync(async () => (lastId = (await store.create(project)).id)));
      sync();
      mat.push(await timeAsync(() => store.materialize(lastId, fresh('work'))));
    },
  ];
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < steps.length; k++) {
      sync();
      await (steps[(i + k) % steps.length] as () => Promise<void>)();
    }
  }
  const rsNoop: number[] = [];
  const create2: number[] = [];
  const rsDest = fresh('rsync-noop');
  rsync(rsDest);
  for (let i = 0; i < RUNS; i++) {
    sync();
    rsNoop.push(time(() => rsync(rsDest)));
    // A new instance each time: nothing carried over in memory, as in a new process.
    const again = new SnapshotStore({ root: lastRoot });
    sync();
    create2.push(await timeAsync(() => again.create(project)));
  }
  // Disk: one snapshot vs ten of the unchanged project.
  const diskStore = new SnapshotStore({ root: fresh('disk-store') });
  await diskStore.create(project);
  const one = duBytes(diskStore.root);
  for (let i = 0; i < 9; i++) await diskStore.create(project);
  const ten = duBytes(diskStore.root);
  const stats = await diskStore.stats();

  const r = (a: number[], b: number[]): number => median(a) / median(b);
  const row = (what: string, ours: number[], theirs: number[], baseline: string, goal: number, goalText: string): string =>
    `| ${what} | ${fmt(ours)} | ${baseline}: ${fmt(theirs)} | ${r(ours, theirs).toFixed(2)}x | ${goalText} | ${r(ours, theirs) <= goal ? 'met' : 'missed'} |`;
  console.log(`\nfile lists: git ${included}, snapshot ${snapList} (${included === snapList ? 'equal' : 'DIFFERENT'})`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (shared with other work); reflinks ${reflinks()} in ${tmpdir()}\n`);
  console.log('| what | SnapshotStore | baseline | ratio | goal | |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('create (first snapshot)', create, cp, '`cp -a` of the file list', 1.5, '<= 1.5x cp'));
  console.log(row('create (first snapshot)', create, rs, "`rsync -a --filter=':- .gitignore'`", 1.0, '< 1x rsync'));
  console.log(row('create, unchanged project', create2, rsNoop, 'rsync, unchanged copy', 1.5, '<= 1.5x'));
  console.log(row('materialize', mat, cp, '`cp -a` of the file list', 1.2, '<= 1.2x'));
  const ratio = ten / one;
  console.log(`| disk, 10 snapshots vs 1 | ${(ten / 1e6).toFixed(1)} MB vs ${(one / 1e6).toFixed(1)} MB | | ${ratio.toFixed(3)}x | < 1.05x | ${ratio < 1.05 ? 'met' : 'missed'} |`);
  console.log(`\nstore after 10 snapshots: logical ${(stats.logicalBytes / 1e6).toFixed(0)} MB, stored ${(stats.storedBytes / 1e6).toFixed(0)} MB in ${stats.objects} objects`);

  const tClean = time(() => rmSync(base, { recursive: true, force: true }));
  console.log(`(cleaned up ${base} in ${tClean.toFixed(1)} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  rmSync(base, { recursive: true, force: true });
  process.exitCode = 1;
});
