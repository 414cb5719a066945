/**
 * Shared by the reliability tests: what they measured goes to results/<theme>.json (the source
 * of docs/reliability.md), and small helpers for driving the panel's API client module.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { PorticoClient } from '../../electron/renderer/src/api/index.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Merges `data` under `key` into results/<theme>.json, with the time it was measured. */
const collected = new Map<string, Record<string, unknown>>();
export function writeResult(theme: string, key: string, data: unknown) {
  const file = join(RESULTS, `${theme}.json`);
  // Keys from earlier runs stay (a run of one test updates only its own part).
  const all = collected.get(theme) ?? (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {});
  delete all.measuredAt;
  all[key] = data;
  collected.set(theme, all);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(file, JSON.stringify({ measuredAt: new Date().toISOString(), ...all }, null, 2) + '\n');
}

export { rng } from '../helpers/random.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (every 25 ms). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Every server event the client dispatches, in order. */
export function record(c: PorticoClient): any[] {
  const events: any[] = [];
  c.on('*', (e) => events.push(e));
  return events;
}

/** Starts the client and resolves on its 'ready'. */
export function startReady(c: PorticoClient): Promise<{ cursor: string; resumed: boolean }> {
  return new Promise((resolve) => {
    const off = c.on('ready', (p) => {
      off();
      resolve(p);
    });
    c.start();
  });
}

export const texts = (events: any[]) => events.filter((e) => e.type === 'chat.message').map((e) => e.message.text as string);

/** Event cursors strictly increase: every event once, in order. */
export function expectOnceInOrder(events: any[], what = '') {
  const cursors = events.map((e) => Number(e.cursor));
  for (let i = 1; i < cursors.length; i++) expect(cursors[i], `${what} event ${i}`).toBeGreaterThan(cursors[i - 1]!);
}

/** An active chat between two started module clients. */
export async function activeChat(a: PorticoClient, b: PorticoClient, bName: string): Promise<string> {
  const requested = new Promise<any>((resolve) => b.on('chat.request', resolve));
  const chat = await a.createChat([bName]);
  expect((await requested).chat.id).toBe(chat.id);
  const accepted = new Promise<any>((resolve) => a.on('chat.accepted', resolve));
  await b.accept(chat.id);
  await accepted;
  return chat.id;
}
