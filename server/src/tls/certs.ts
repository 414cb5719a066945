/**
 * The organisation's TLS certificates: a CA made once per installation, and the server
 * certificate it signs (renewed from the same CA, so clients pinned to the CA's fingerprint keep
 * trusting the server). Keys come from node:crypto; the X.509 certificates are built and signed
 * with node-forge (SHA-256). Everything lives in <dataDir>/tls/ (0700), every file 0600 like the
 * rest of the data directory (the certificates are public, but the server alone reads them there:
 * the admin hands ca.crt out from `portico cert show`'s path).
 *
 * An admin may supply their own PEM certificate and key instead (PORTICO_TLS_CERT/_KEY): they
 * are checked to belong together before the server uses them.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { ConfigError } from '../config.js';
import { PRIVATE_FILE, privateDirSync } from '../private-fs.js';

/** A TLS problem an admin must fix (bad files, missing CA, mismatched key): printed as is. */
export class TlsError extends ConfigError {}

export const CA_VALIDITY_DAYS = 3650;
/** The longest lifetime browsers and platforms accept for a server certificate. */
export const SERVER_VALIDITY_DAYS = 397;
const DAY = 24 * 3600_000;

export interface TlsPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export const tlsPaths = (dataDir: string): TlsPaths => {
  const dir = join(resolve(dataDir), 'tls');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
};

export interface Pem {
  certPem: string;
  keyPem: string;
}

export interface SanList {
  hosts: string[];
  ips: string[];
}

export interface CertSummary {
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
  sans: SanList;
  /** SHA-256 of the DER certificate as AA:BB:... */
  fingerprint256: string;
  serialNumber: string;
}

function rsaKeys(bits: number) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  return { keyPem: privateKey, forgeKey, publicKey };
}

/** A positive random 128-bit serial number (hex), as RFC 5280 asks. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10; // positive, and no leading zero byte
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number, now: Date) {
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate clocks a little behind
  cert.validity.notAfter = new Date(now.getTime() + days * DAY);
}

/**
 * The CA's own name: "Portico CA <host> <8 random hex>". Every installation used to be called
 * "Portico organisation CA", so a client trusting two of them could not tell them apart (and
 * chain building picks a CA by name). At most 64 characters, the X.509 limit for a common name.
 */
export function caCommonName(host = hostname()): string {
  const tag = randomBytes(4).toString('hex');
  const name = host.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 64 - 'Portico CA  '.length - tag.length) || 'portico';
  return `Portico CA ${name} ${tag}`;
}

/**
 * A new organisation CA: RSA 3072, self-signed, 10 years, keyCertSign/cRLSign, CA:true with
 * pathLenConstraint 0: it signs server certificates only, never another CA (a stolen CA key
 * still cannot mint intermediates that clients would accept below it).
 */
export function createCa({ commonName, host, now = new Date() }: { commonName?: string; host?: string; now?: Date } = {}): Pem {
  const { keyPem, forgeKey, publicKey } = rsaKeys(3072);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  validity(cert, CA_VALIDITY_DAYS, now);
  const name = [
    { name: 'commonName', value: commonName ?? caCommonName(host) },
    { name: 'organizationName', value: 'Portico' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** Host names and IPs as given, checked, without duplicates. */
export function normalizeSans({ hosts, ips }: SanList): SanList {
  const out: SanList = { hosts: [], ips: [] };
  for (const raw of hosts) {
    const host = raw.trim().toLowerCase().replace(/\.$/, '');
    if (isIP(host)) {
      out.ips.push(host);
      continue;
    }
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(host)) {
      throw new TlsError(`"${raw}" is not a valid host name`);
    }
    out.hosts.push(host);
  }
  for (const raw of ips) {
    const ip = raw.trim().replace(/^\[|\]$/g, '');
    if (!isIP(ip)) throw new TlsError(`"${raw}" is not an IP address`);
    out.ips.push(ip);
  }
  out.hosts = [...new Set(out.hosts)];
  out.ips = [...new Set(out.ips)];
  if (out.hosts.length + out.ips.length === 0) throw new TlsError('a server certificate needs at least one host name or IP address');
  return out;
}

/** The names a certificate is made for when the admin names none: this machine and loopback. */
export function defaultSans(listenHost?: string): SanList {
  const hosts = ['localhost'];
  const name = hostname().toLowerCase();
  if (name && name !== 'localhost' && !isIP(name)) hosts.push(name);
  const ips = ['127.0.0.1', '::1'];
  if (listenHost && isIP(listenHost) && listenHost !== '0.0.0.0' && listenHost !== '::') ips.push(listenHost);
  return { hosts, ips };
}

/** A server certificate (RSA 2048, serverAuth, the given SANs, 397 days) signed by the CA. */
export function createServerCert(ca: Pem, sans: SanList, { now = new Date(), days = SERVER_VALIDITY_DAYS } = {}): Pem {
  const names = normalizeSans(sans);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { keyPem, publicKey } = rsaKeys(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  validity(cert, days, now);
  cert.setSubject([{ name: 'commonName', value: names.hosts[0] ?? names.ips[0]! }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...names.hosts.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** SANs of a certificate, from node:crypto's subjectAltName string. */
export function sansOf(cert: X509Certificate): SanList {
  const out: SanList = { hosts: [], ips: [] };
  for (const part of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const [kind, ...rest] = part.split(':');
    const value = rest.join(':');
    if (kind === 'DNS') out.hosts.push(value);
    else if (kind === 'IP Address') out.ips.push(value);
  }
  return out;
}

export function summarize(certPem: string): CertSummary {
  const cert = parseCert(certPem, 'certificate');
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    sans: sansOf(cert),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
  };
}

function parseCert(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new TlsError(`${what} is not a PEM certificate (${(error as Error).message})`);
  }
}

/**
 * Checks a certificate and key belong together (and are readable PEM); throws TlsError saying
 * which file is wrong. `what` names them in the message (paths, usually).
 */
export function validatePair({ certPem, keyPem }: Pem, what = { cert: 'the certificate', key: 'the key' }): X509Certificate {
  const cert = parseCert(certPem, what.cert);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new TlsError(`${what.key} is not a readable PEM private key (${(error as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new TlsError(`${what.key} does not belong to ${what.cert}: the key does not match the certificate`);
  return cert;
}

/** Writes atomically (temporary file, then rename), mode 0600. */
function writeAtomic(path: string, data: string, mode = PRIVATE_FILE) {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // the umask may have taken bits off; never more than asked
  renameSync(tmp, path);
}

function readPair(certPath: string, keyPath: string): Pem {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new TlsError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return { certPem: read(certPath), keyPem: read(keyPath) };
}

export interface CertStatus {
  paths: TlsPaths;
  ca?: CertSummary;
  server?: CertSummary;
}

export interface InitResult extends CertStatus {
  createdCa: boolean;
  ca: CertSummary;
  server: CertSummary;
}

function writeServer(paths: TlsPaths, pem: Pem) {
  // Key first: a watcher that sees the new certificate then finds its key already there.
  writeAtomic(paths.serverKey, pem.keyPem);
  writeAtomic(paths.serverCert, pem.certPem);
}

/**
 * `portico cert init`: makes the CA if the data directory has none (an existing CA is kept, so
 * clients pinned to it stay valid), then a server certificate for these names.
 */
export function initCertificates(dataDir: string, sans: SanList, now = new Date()): InitResult {
  const paths = tlsPaths(dataDir);
  const names = normalizeSans(sans);
  privateDirSync(resolve(dataDir));
  privateDirSync(paths.dir);
  let createdCa = false;
  let ca: Pem;
  if (existsSync(paths.caCert) || existsSync(paths.caKey)) {
    ca = readPair(paths.caCert, paths.caKey);
    validatePair(ca, { cert: paths.caCert, key: paths.caKey });
  } else {
    ca = createCa({ now });
    writeAtomic(paths.caKey, ca.keyPem);
    writeAtomic(paths.caCert, ca.certPem);
    createdCa = true;
  }
  const server = createServerCert(ca, names, { now });
  writeServer(paths, server);
  return { paths, createdCa, ca: summarize(ca.certPem), server: summarize(server.certPem) };
}

/** `portico cert renew`: a new server certificate (new key) from the existing CA, same names unless given. */
export function renewCertificates(dataDir: string, sans?: Partial<SanList>, now = new Date()): InitResult {
  const paths = tlsPaths(dataDir);
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    throw new TlsError(`no CA in ${paths.dir}: run \`portico cert init\` first`);
  }
  const ca = readPair(paths.caCert, paths.caKey);
  validatePair(ca, { cert: paths.caCert, key: paths.caKey });
  let names: SanList;
  if (sans && (sans.hosts?.length || sans.ips?.length)) names = { hosts: sans.hosts ?? [], ips: sans.ips ?? [] };
  else if (existsSync(paths.serverCert)) names = summarize(readFileSync(paths.serverCert, 'utf8')).sans;
  else throw new TlsError(`no server certificate in ${paths.dir} to take the names from: give --host or --ip`);
  const server = createServerCert(ca, names, { now });
  writeServer(paths, server);
  return { paths, createdCa: false, ca: summarize(ca.certPem), server: summarize(server.certPem) };
}

/** `portico cert show`: what is there. */
export function certificateStatus(dataDir: string): CertStatus {
  const paths = tlsPaths(dataDir);
  const status: CertStatus = { paths };
  if (existsSync(paths.caCert)) status.ca = summarize(readFileSync(paths.caCert, 'utf8'));
  if (existsSync(paths.serverCert)) status.server = summarize(readFileSync(paths.serverCert, 'utf8'));
  return status;
}

export interface TlsSource {
  certPath: string;
  keyPath: string;
  /** Whether the admin supplied these files (PORTICO_TLS_CERT/_KEY) rather than `cert init`. */
  supplied: boolean;
}

/** Which files the server uses: the admin's, if given (both), else the data directory's; undefined when none. */
export function tlsSource(dataDir: string, tlsCert?: string, tlsKey?: string): TlsSource | undefined {
  if (tlsCert || tlsKey) {
    if (!tlsCert || !tlsKey) throw new TlsError('PORTICO_TLS_CERT and PORTICO_TLS_KEY go together: give both, or neither');
    return { certPath: resolve(tlsCert), keyPath: resolve(tlsKey), supplied: true };
  }
  const paths = tlsPaths(dataDir);
  return existsSync(paths.serverCert) ? { certPath: paths.serverCert, keyPath: paths.serverKey, supplied: false } : undefined;
}

/** Reads and validates the server's certificate and key; throws TlsError naming the files. */
export function loadServerPair(source: TlsSource): Pem & { cert: X509Certificate } {
  const pem = readPair(source.certPath, source.keyPath);
  const cert = validatePair(pem, { cert: source.certPath, key: source.keyPath });
  return { ...pem, cert };
}
