/**
 * Login limits against the attacks they exist for: parallel guesses must not outrun the limit (the
 * point is taken before scrypt runs), and a stranger's wrong passwords must not lock the owner out
 * (failures count per account and address; the per-account budget is a larger, slower one, and an
 * address the owner logged in from before is not held to it). Two client addresses: 127.0.0.1 and
 * 127.0.0.2 (both loopback on Linux), the test binding its side of the connection to either.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { PASSWORD, expectError, startTestServer, type TestServer } from '../helpers/server.js';

const agents: Agent[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

/** A login attempt whose connection comes from this local address. */
function loginFrom(address: string) {
  const dispatcher = new Agent({ localAddress: address });
  agents.push(dispatcher);
  return async (server: TestServer, username: string, password: string) => {
    const res = await undiciFetch(`${server.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      dispatcher,
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text), headers: res.headers as unknown as Headers };
  };
}

const owner = loginFrom('127.0.0.1');
const attacker = loginFrom('127.0.0.2');
const sprayers = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].map(loginFrom);

describe('login limits', () => {
  it('40 parallel wrong passwords: at most the limit are checked (401), the rest are 429 with Retry-After', async () => {
    const server = await startTestServer({ loginFailuresPerUser: 10, loginPerIpPerMinute: 1000 });
    try {
      await server.user('ll-race');
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attacker(server, 'll-race', `wrong ${i}`)));
      const checked = answers.filter((a) => a.status === 401);
      const refused = answers.filter((a) => a.status === 429);
      expect(checked.length + refused.length).toBe(40);
      expect(checked.length).toBeLessThanOrEqual(10);
      expect(refused.length).toBeGreaterThanOrEqual(30);
      for (const r of refused) {
        expectError(r, 429, 'rate_limited');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // The attacker's address stays locked for this account even with the right password.
      expectError(await attacker(server, 'll-race', PASSWORD), 429, 'rate_limited');
    } finally {
      await server.destroy();
    }
  }, 180_000); // today's code runs all 40 through scrypt: let it fail on the count, not the clock

  it("a stranger's wrong passwords lock their own address out, not the owner", async () => {
    const server = await startTestServer({ loginFailuresPerUser: 5, loginPerIpPerMinute: 1000 });
    try {
      await server.user('ll-owner');
      for (let i = 0; i < 5; i++) expectError(await attacker(server, 'll-owner', `guess ${i}`), 401, 'invalid_credentials');
      const blocked = await attacker(server, 'll-owner', `guess 6`);
      expectError(blocked, 429, 'rate_limited');
      expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);

      // The owner, from their own address, logs in as usual; the attacker is still blocked.
      expect((await owner(server, 'll-owner', PASSWORD)).status).toBe(200);
      expectError(await attacker(server, 'll-owner', PASSWORD), 429, 'rate_limited');

      // The owner's own failures count at their address, and a success clears them.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 4; i++) expectError(await owner(server, 'll-owner', 'typo'), 401, 'invalid_credentials');
        expect((await owner(server, 'll-owner', PASSWORD)).status).toBe(200);
      }
    } finally {
      await server.destroy();
    }
  });

  it('spraying one account from many addresses runs into the per-account budget; an address the owner used keeps working', async () => {
    const server = await startTestServer({ loginFailuresPerUser: 3, loginFailuresPerAccount: 8, loginPerIpPerMinute: 1000 });
    try {
      await server.user('ll-sprayed');
      expect((await owner(server, 'll-sprayed', PASSWORD)).status).toBe(200); // the owner's usual address
      let checked = 0;
      for (const from of [attacker, ...sprayers]) {
        for (let i = 0; i < 3; i++) {
          const res = await from(server, 'll-sprayed', `spray ${i}`);
          expect([401, 429], JSON.stringify(res.body)).toContain(res.status);
          if (res.status === 401) checked++;
        }
      }
      // Five addresses with 3 tries each: only the account's budget of 8 reached the password check.
      expect(checked).toBe(8);
      const fresh = loginFrom('127.0.0.7');
      const refused = await fresh(server, 'll-sprayed', PASSWORD);
      expectError(refused, 429, 'rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
      // The owner's known address is not held to the per-account budget.
      expect((await owner(server, 'll-sprayed', PASSWORD)).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });

  it('an unknown user ID is limited like a real one (no hint which IDs exist)', async () => {
    const server = await startTestServer({ loginFailuresPerUser: 3, loginPerIpPerMinute: 1000 });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await attacker(server, 'll-nobody', 'x')).status);
      expect(answers).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.destroy();
    }
  });
});
