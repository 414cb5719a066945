/**
 * Who the client is behind reverse proxies (PORTICO_TRUST_PROXY). Each proxy appends the address it
 * saw to X-Forwarded-For; everything to the left of that was written by someone further out, so
 * the client can put anything there. The address to believe is the one the outermost trusted proxy
 * saw: with N hops, the Nth entry from the right (Koa's maxIpsCount); with a list of trusted
 * proxies, the rightmost address that is not one of them.
 */
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';

/** Koa's own options for the trust setting (the list form is resolved by `trustedProxies`). */
export function koaProxyOptions(trust: false | number | string[]): { proxy: boolean; maxIpsCount?: number } {
  if (trust === false) return { proxy: false };
  if (typeof trust === 'number') return { proxy: true, maxIpsCount: trust };
  return { proxy: false };
}

const unmapped = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** Answers whether an address is one of these (addresses or CIDR ranges, as the config validated them). */
export function addressMatcher(entries: string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string?];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(unmapped(address), isIP(unmapped(address)) === 6 ? 'ipv6' : 'ipv4');
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The client's address: walk from the connection leftwards through X-Forwarded-For while the hop is trusted. */
export function clientAddress(socketAddress: string, forwardedFor: string | undefined, trusted: (address: string) => boolean): string {
  const hops = (forwardedFor ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  let address = socketAddress;
  while (trusted(address) && hops.length > 0) address = hops.pop()!;
  return address;
}

/** Middleware for the list form: sets ctx.ip from the connection and the trusted hops. */
export function trustedProxies(entries: string[]) {
  const trusted = addressMatcher(entries);
  return async function clientAddressFromProxies(ctx: Context, next: Next) {
    ctx.request.ip = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for') || undefined, trusted);
    await next();
  };
}
