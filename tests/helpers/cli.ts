/**
 * The `portico` command line run for real, as child processes of bin/portico.js, the installed
 * command, which runs the built server (server/dist/). Loading this helper rebuilds that when it
 * is older than the sources, so a stale build is never what gets tested. Each child runs
 * without the machine's PORTICO_* settings and in a scratch working directory, so a data-dir
 * option that is not honoured cannot litter the repository with ./data. Children still running
 * and scratch directories are cleaned up after the test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { buildServer, isServerBuildStale } from '../../server/build.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/portico.js');

/** Builds the server unless server/dist/ is up to date with its sources (then: a few ms). */
export async function ensureServerBuilt(): Promise<void> {
  if (isServerBuildStale()) await buildServer({ quiet: true });
}
await ensureServerBuilt();

const children = new Set<ChildProcess>();
const scratch: string[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** The environment without any PORTICO_* setting of the machine running the tests, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PORTICO_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Working directory (default: a new scratch directory). */
  cwd?: string;
}

export function spawnCli(args: string[], { env = {}, cwd }: CliOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: cwd ?? tempDir('portico-cli-cwd-'),
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end. A command takes well under a second, but seconds on 2 busy cores,
 * hence the generous default limit; past it the child is killed and the run rejected.
 */
export function runCli(args: string[], options: CliOptions & { timeoutMs?: number } = {}): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portico ${args.join(' ')}: still running after ${timeoutMs / 1000} s\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
