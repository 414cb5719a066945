/**
 * testssl.sh (the Debian package) against the real HTTPS server on loopback: every suite the
 * server accepts has forward secrecy (ECDHE, TLS 1.3), none is CBC (so none is CBC-SHA1), none is
 * CCM8. It runs `-e` (each cipher) with `--ssl-native`: one OpenSSL handshake per cipher the local
 * OpenSSL 3 knows (81 here, every static-RSA, CBC-SHA1 and CCM8 suite among them), which is the
 * list the server's own OpenSSL can offer anyway; the socket-based `-E` tries ~370 hex codes and
 * takes minutes longer on a loaded machine for the same answer.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initCertificates } from '../../server/src/tls/certs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { killGroup, track } from '../helpers/squid.js';

const TESTSSL = process.env.TESTSSL_PATH ?? '/usr/bin/testssl';
const BUDGET_MS = 8 * 60_000;

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-testssl-'));
  initCertificates(dir, { hosts: ['localhost'], ips: ['127.0.0.1'] });
  server = await startTestServer({ httpsPort: 0 }, dir);
});
afterAll(async () => {
  await server?.destroy();
});

/** Runs testssl, bounded: its JSON findings (the process group is killed past the budget). */
function testssl(args: string[], jsonFile: string): Promise<{ findings: Array<{ id: string; severity: string; finding: string }>; output: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(TESTSSL, ['--quiet', '--color', '0', '--warnings', 'off', '--nodns', 'none', '--openssl-timeout', '5', ...args, '--jsonfile', jsonFile, `https://127.0.0.1:${server.httpsPort}`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let output = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const timer = setTimeout(() => killGroup(child), BUDGET_MS);
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal || !existsSync(jsonFile)) return fail(new Error(`testssl ended (${signal ?? code}) without findings:\n${output}`));
      ok({ findings: JSON.parse(readFileSync(jsonFile, 'utf8')), output });
    });
  });
}

it(
  'testssl: every accepted suite is forward-secret and AEAD (no static RSA, no CBC-SHA1, no CCM8)',
  async () => {
    expect(existsSync(TESTSSL), `${TESTSSL} is missing: apt-get install testssl.sh (.ci/run does)`).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'portico-testssl-out-'));
    try {
      const { findings, output } = await testssl(['--ssl-native', '-e'], join(out, 'ciphers.json'));
      // "x1301   TLS_AES_128_GCM_SHA256   ECDH 253   AESGCM   128   TLS_AES_128_GCM_SHA256"
      const suites = findings
        .filter((f) => f.id.startsWith('cipher_x'))
        .map((f) => {
          const parts = f.finding.trim().split(/\s+/);
          return { openssl: parts[1]!, kx: parts[2]!, iana: parts[parts.length - 1]! };
        });
      expect(suites.map((s) => s.iana), output).toContain('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
      expect(suites.map((s) => s.iana)).toContain('TLS_AES_128_GCM_SHA256'); // TLS 1.3 still on
      const faults = suites.flatMap(({ kx, iana }) => [
        ...(/^(ECDH|DH)$/.test(kx) ? [] : [`${iana}: no forward secrecy (key exchange ${kx})`]),
        ...(/CBC/.test(iana) ? [`${iana}: CBC${/_SHA$/.test(iana) ? '-SHA1' : ''}`] : []),
        ...(/CCM_8/.test(iana) ? [`${iana}: CCM8`] : []),
        ...(/_(GCM|CHACHA20_POLY1305)_SHA(256|384)$/.test(iana) ? [] : [`${iana}: not AEAD`]),
      ]);
      expect(faults).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
  BUDGET_MS + 60_000,
);
