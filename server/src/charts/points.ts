/**
 * Chart points as providers send them, normalized to [Unix ms, value]:
 * - JSON [[time, value], ...] or [{"time": ..., "value": ...}, ...];
 * - text "time:value,time:value" (what a form post or a shell script has at hand; pairs may also
 *   be separated by ";" or newlines; the value follows the last ":", so ISO times work);
 * - a form field holding JSON text (starting with "[") is read as JSON.
 * A time is Unix seconds, Unix milliseconds (numbers from 10^11 on) or ISO 8601; a value is a
 * finite number (or a string holding one). A time given twice keeps its last value.
 */
import { CHART_POINTS_MAX_DEPTH, nestsDeeperThan } from '../../../shared/index.js';
import { AppError } from '../errors.js';

export type Point = [number, number];

const FORMATS = 'JSON [[time, value], ...] or [{"time": ..., "value": ...}, ...], or text "time:value,time:value"';
/** Numbers below this are Unix seconds, from it on Unix milliseconds (10^11 s is the year 5138, 10^11 ms is 1973). */
const MS_FROM = 1e11;
/** The latest time accepted: the end of the year 9999. */
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const UNSIGNED = /^(\d+\.?\d*|\.\d+)$/;
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;

const invalid = (message: string) => new AppError(400, 'invalid_request', `points: ${message}`);
const show = (v: unknown) => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? '[...]' : typeof v; // too deep to write out (the depth checks should have caught it)
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

function toMs(time: unknown, at: string): number {
  let ms: number;
  if (typeof time === 'number') {
    ms = time < MS_FROM ? time * 1000 : time;
  } else if (typeof time === 'string' && UNSIGNED.test(time.trim())) {
    const n = Number(time.trim());
    ms = n < MS_FROM ? n * 1000 : n;
  } else if (typeof time === 'string' && ISO.test(time.trim())) {
    ms = Date.parse(time.trim().replace(' ', 'T').replace(',', '.'));
  } else {
    throw invalid(`${at}: the time ${show(time)} is not Unix seconds, Unix milliseconds or ISO 8601`);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) throw invalid(`${at}: the time ${show(time)} is not a valid time (1970 to 9999)`);
  return Math.round(ms);
}

function toValue(value: unknown, at: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n)) throw invalid(`${at}: the value ${show(value)} is not a finite number`);
  return n;
}

/** The raw [time, value] pairs of the input, before their times and values are read. */
function pairsOf(input: unknown, max: number): Array<[unknown, unknown]> {
  if (input === undefined || input === null || input === '') throw invalid(`required: ${FORMATS}`);
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalid(`the text starts with "[" but is not valid JSON; send ${FORMATS}`);
      }
      if (nestsDeeperThan(parsed, CHART_POINTS_MAX_DEPTH)) throw invalid(`nested deeper than ${CHART_POINTS_MAX_DEPTH} levels; send ${FORMATS}`);
      return pairsOf(parsed, max);
    }
    const parts = text.split(/[,;\r\n]+/).map((p) => p.trim()).filter((p) => p !== '');
    if (parts.length > max) throw invalid(`at most ${max} points per post (got ${parts.length})`);
    return parts.map((part, i) => {
      const colon = part.lastIndexOf(':');
      if (colon <= 0) throw invalid(`[${i}]: ${show(part)} is not time:value`);
      return [part.slice(0, colon), part.slice(colon + 1)];
    });
  }
  if (!Array.isArray(input)) throw invalid(`send ${FORMATS}`);
  if (input.length > max) throw invalid(`at most ${max} points per post (got ${input.length})`);
  return input.map((p: unknown, i): [unknown, unknown] => {
    if (Array.isArray(p) && p.length === 2) return [p[0], p[1]];
    if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
      const keys = Object.keys(p);
      if (keys.length === 2 && 'time' in p && 'value' in p) return [p.time, p.value];
    }
    throw invalid(`[${i}]: ${show(p)} is neither [time, value] nor {"time": ..., "value": ...}`);
  });
}

/** Normalized points, ordered by time, each time once; throws a 400 naming the first bad point. */
export function parsePoints(input: unknown, max: number): Point[] {
  const pairs = pairsOf(input, max);
  if (pairs.length === 0) throw invalid(`give at least one point: ${FORMATS}`);
  const byTime = new Map<number, number>();
  pairs.forEach(([time, value], i) => {
    const ms = toMs(time, `[${i}]`);
    byTime.set(ms, toValue(value, `[${i}]`));
  });
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]);
}
