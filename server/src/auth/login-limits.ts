/**
 * Login rate limits, in the order an attempt meets them (the shape of rate-limiter-flexible's
 * "login endpoint protection" and of OWASP's advice against lockouts an attacker can cause):
 *   1. per address: every attempt counts (a flood from one place);
 *   2. per account and address: failures count, a success clears them. An attacker elsewhere
 *      locks only their own address out of the account, never the owner;
 *   3. per account: a larger budget over a longer window, so that spraying one account from many
 *      addresses is slowed too. Addresses the account logged in from recently are not held to it,
 *      so that even then the owner gets in from where they usually are.
 * Points are taken BEFORE the password is checked: parallel guesses cannot outrun the limit.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import { SharedLimits } from '../http/shared-limits.js';

/** How long an address that logged in stays known to the account (below setTimeout's 24.8-day cap). */
const KNOWN_ADDRESS_SECONDS = 14 * 86400;

export interface LoginLimitSettings {
  loginPerIpPerMinute: number;
  /** Failures per account and address, per 15 minutes. */
  loginFailuresPerUser: number;
  /** Failures per account from addresses it did not log in from, per hour. */
  loginFailuresPerAccount: number;
}

const tooMany = (res: RateLimiterRes) => {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError(429, 'rate_limited', `too many login attempts; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
};

async function take(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (res instanceof RateLimiterRes) throw tooMany(res);
    throw res;
  }
}

export class LoginLimits {
  private readonly perAddress: RateLimiterAbstract;
  private readonly perAccountAddress: RateLimiterAbstract;
  private readonly perAccount: RateLimiterAbstract;
  private readonly knownAddresses: RateLimiterAbstract;

  /** `shared`: counted across the cluster's nodes when Redis is configured, in this process otherwise. */
  constructor(settings: LoginLimitSettings, shared: SharedLimits = SharedLimits.local()) {
    this.perAddress = shared.limiter({ name: 'login-address', points: settings.loginPerIpPerMinute, duration: 60 });
    this.perAccountAddress = shared.limiter({ name: 'login-account-address', points: settings.loginFailuresPerUser, duration: 15 * 60 });
    this.perAccount = shared.limiter({ name: 'login-account', points: settings.loginFailuresPerAccount, duration: 3600 });
    this.knownAddresses = shared.limiter({ name: 'login-known-address', points: 1, duration: KNOWN_ADDRESS_SECONDS });
  }

  /** Admits one request of a sign-in that has no account yet (single sign-on): the per-address limit only. */
  async admitAddress(address: string): Promise<void> {
    await take(this.perAddress, address);
  }

  /**
   * Admits one attempt (429 AppError with Retry-After when a limit is reached), taking its points
   * now; answers `settle`, to be called with the outcome: a success gives its points back.
   */
  async admit(username: string, address: string): Promise<(ok: boolean) => Promise<void>> {
    const account = username.toLowerCase();
    const accountAddress = `${account}\n${address}`;
    await take(this.perAddress, address);
    await take(this.perAccountAddress, accountAddress);
    const known = (await this.knownAddresses.get(accountAddress)) !== null;
    if (!known) {
      try {
        await take(this.perAccount, account);
      } catch (error) {
        await this.perAccountAddress.reward(accountAddress, 1); // not checked, so not a failure here
        throw error;
      }
    }
    return async (ok) => {
      if (!ok) return;
      await this.perAccountAddress.delete(accountAddress);
      if (!known) await this.perAccount.reward(account, 1);
      await this.knownAddresses.set(accountAddress, 1, KNOWN_ADDRESS_SECONDS);
    };
  }
}
