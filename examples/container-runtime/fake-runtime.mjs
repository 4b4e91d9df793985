#!/usr/bin/env node
/**
 * A stand-in for `docker` with the two commands the container executor example uses, so the
 * example runs (and passes the step-executor contract) on machines without a container
 * daemon, as CI is. It keeps docker's observable behaviour:
 *
 *   run --rm --name NAME -w DIR [-v SRC:DST]... [-e NAME]... IMAGE COMMAND ARGS...
 *       runs COMMAND in DIR with only the `-e` variables (their values from this process's
 *       environment) and PATH; exits with its code, or 128 + the signal number.
 *       The image and volumes are ignored: the "container" is the host.
 *   stop [-t SECONDS] NAME
 *       SIGTERM to the container's processes, SIGKILL after SECONDS (default 10).
 *
 * The container's process group id is kept in $FAKE_RUNTIME_STATE (default: a folder under
 * the system's temporary directory), one file per name.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';

const stateDir = process.env.FAKE_RUNTIME_STATE ?? path.join(tmpdir(), 'pipeline-jobs-fake-runtime');
mkdirSync(stateDir, { recursive: true });
const pidFile = (name) => path.join(stateDir, `${name.replace(/[^\w.-]/g, '_')}.pid`);
const [command, ...args] = process.argv.slice(2);

function usage(message) {
  process.stderr.write(`fake-runtime: ${message}\n`);
  process.exit(125); // docker's code for an error of the runtime itself
}

if (command === 'run') {
  let name;
  let workdir = process.cwd();
  const names = [];
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const flag = args[i];
    if (flag === '--rm') continue;
    const value = args[++i];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--name') name = value;
    else if (flag === '-w') workdir = value;
    else if (flag === '-e') names.push(value);
    else if (flag !== '-v') usage(`unknown option ${flag}`);
  }
  const [, program, ...programArgs] = args.slice(i); // the image is ignored
  if (!name || !program) usage('run needs --name, an image and a command');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const n of names) if (process.env[n] !== undefined) env[n] = process.env[n];
  // Its own process group, as a container has its own PID namespace: `stop` ends all of it.
  const child = spawn(program, programArgs, { cwd: workdir, env, stdio: 'inherit', detached: true });
  child.on('error', (error) => usage(`cannot start ${program}: ${error.message}`));
  const file = pidFile(name);
  writeFileSync(`${file}.tmp`, String(child.pid));
  renameSync(`${file}.tmp`, file);
  // As `docker run` proxies signals to the container.
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    rmSync(file, { force: true });
    process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
  });
} else if (command === 'stop') {
  let seconds = 10;
  let i = 0;
  if (args[0] === '-t') {
    seconds = Number(args[1]);
    i = 2;
  }
  const name = args[i];
  if (!name || !Number.isFinite(seconds)) usage('stop [-t SECONDS] NAME');
  const deadline = Date.now() + seconds * 1000;
  const alive = (pgid) => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      if (error.code === 'ESRCH') return false;
      throw error;
    }
  };
  const readPgid = () => {
    try {
      return Number(readFileSync(pidFile(name), 'utf8'));
    } catch (error) {
      if (error.code === 'ENOENT') return undefined; // not started yet, or already gone
      throw error;
    }
  };
  // The container may still be starting (no state file yet): keep looking until the deadline.
  let termed = false;
  const tick = () => {
    const pgid = readPgid();
    const late = Date.now() >= deadline;
    if (pgid !== undefined && !alive(pgid)) process.exit(0);
    if (pgid !== undefined && !termed) {
      process.kill(-pgid, 'SIGTERM');
      termed = true;
    }
    if (late) {
      if (pgid !== undefined) process.kill(-pgid, 'SIGKILL');
      process.exit(0);
    }
    setTimeout(tick, 50);
  };
  tick();
} else {
  usage(`unknown command ${command ?? '(none)'}: use run or stop`);
}
