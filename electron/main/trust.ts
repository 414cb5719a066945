/**
 * The certificate decision behind session.setCertificateVerifyProc.
 *
 * - What Chromium verified itself (system trust store, verificationResult net::OK) stands.
 * - Otherwise a certificate is accepted only for the configured server host, and only if the
 *   chain the server presented leads, signature by signature, from the server's certificate to a
 *   certificate whose SHA-256 fingerprint is the configured CA fingerprint; every certificate in
 *   that path must be within its validity period, the issuers must be CAs, and the server's
 *   certificate must name the host. Merely *containing* the CA certificate proves nothing (anyone
 *   can append it to a chain), hence the signature checks.
 * - Anything else is refused. There is no "accept all" path.
 *
 * Works on the plain shape of Electron's Certificate (PEM `data`, `issuerCert`); node:crypto
 * recomputes the fingerprints from the PEM rather than trusting the given strings.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export interface PlainCertificate {
  /** PEM. */
  data: string;
  /** Chromium's fingerprint string (informational; recomputed from `data`). */
  fingerprint?: string;
  issuerCert?: PlainCertificate | null;
}

export interface VerifyRequest {
  hostname: string;
  certificate: PlainCertificate;
  /** Chromium's own result: 'net::OK' when it trusted the chain. */
  verificationResult: string;
}

export interface TrustSettings {
  serverUrl?: string;
  /** Normalised AB:CD:... (config.ts), though any hex spelling is accepted. */
  caFingerprint256?: string;
}

export type TrustVerdict = 'chromium' | 'accept' | 'reject';
export interface TrustDecision {
  verdict: TrustVerdict;
  reason: string;
}

/** Values for the setCertificateVerifyProc callback: 0 trust, -2 fail, -3 Chromium's own result. */
export const VERIFY_PROC_RESULT: Record<TrustVerdict, number> = { accept: 0, reject: -2, chromium: -3 };

const MAX_CHAIN = 10;
const normalizeFingerprint = (value: string): string => value.replace(/[\s:]/g, '').toUpperCase();
const normalizeHost = (host: string): string => host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

function serverHost(serverUrl: string | undefined): string | undefined {
  if (!serverUrl) return undefined;
  try {
    return normalizeHost(new URL(serverUrl).hostname);
  } catch {
    return undefined;
  }
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

export function decideTrust(request: VerifyRequest, settings: TrustSettings, now: Date = new Date()): TrustDecision {
  if (request.verificationResult === 'net::OK' || request.verificationResult === 'OK') {
    return { verdict: 'chromium', reason: 'verified by the system trust store' };
  }
  const pinned = settings.caFingerprint256 ? normalizeFingerprint(settings.caFingerprint256) : undefined;
  if (!pinned) return { verdict: 'reject', reason: `${request.verificationResult}; no CA fingerprint configured` };
  const host = serverHost(settings.serverUrl);
  const requested = normalizeHost(request.hostname);
  if (!host || requested !== host) return { verdict: 'reject', reason: `${requested} is not the configured server host` };

  // The presented chain, leaf first, as parsed certificates.
  const chain: X509Certificate[] = [];
  for (let cert: PlainCertificate | null | undefined = request.certificate; cert && chain.length < MAX_CHAIN; cert = cert.issuerCert) {
    try {
      chain.push(new X509Certificate(cert.data));
    } catch {
      return { verdict: 'reject', reason: 'unreadable certificate in the chain' };
    }
  }
  const anchor = chain.findIndex((cert) => normalizeFingerprint(cert.fingerprint256) === pinned);
  if (anchor < 0) return { verdict: 'reject', reason: 'the configured CA is not in the presented chain' };

  const leaf = chain[0]!;
  const namesHost = isIP(requested) ? leaf.checkIP(requested) !== undefined : leaf.checkHost(requested) !== undefined;
  if (!namesHost) return { verdict: 'reject', reason: `the server certificate is not for ${requested}` };

  for (let i = 0; i <= anchor; i++) {
    const cert = chain[i]!;
    if (!validAt(cert, now)) return { verdict: 'reject', reason: `certificate ${i} is expired or not yet valid` };
    if (i === anchor) break;
    const issuer = chain[i + 1]!;
    if (!issuer.ca) return { verdict: 'reject', reason: `certificate ${i + 1} is not a CA` };
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return { verdict: 'reject', reason: `certificate ${i} is not signed by certificate ${i + 1}` };
    }
  }
  return { verdict: 'accept', reason: anchor === 0 ? 'the pinned certificate itself' : 'issued by the configured CA' };
}
