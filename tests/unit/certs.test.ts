/**
 * The certificate module: the CA signs the server certificate (checked with node:crypto, not
 * with forge), the extensions and validity are what clients expect, renew keeps the CA, private
 * keys are 0600, and an admin pair whose key does not match is refused clearly.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { resolveTls } from '../../server/src/tls/listen.js';
import {
  TlsError,
  certificateStatus,
  createCa,
  createServerCert,
  initCertificates,
  loadServerPair,
  normalizeSans,
  renewCertificates,
  tlsPaths,
  validatePair,
} from '../../server/src/tls/certs.js';

const DAY = 24 * 3600_000;

/** `openssl` output (stdout and stderr, exit status ignored). */
function openssl(args: string[]): string {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return `${run.stdout}${run.stderr}`;
}

/** An intermediate CA signed by `ca`: what pathLenConstraint 0 forbids. */
function createSubCa(ca: { certPem: string; keyPem: string }) {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '2f' + '00'.repeat(15);
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY);
  cert.setSubject([{ name: 'commonName', value: 'sub CA' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A CA as Portico made them before: no pathLenConstraint, the same name everywhere. */
function createLegacyCa() {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '1f' + '00'.repeat(15);
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY);
  const name = [
    { name: 'commonName', value: 'Portico organisation CA' },
    { name: 'organizationName', value: 'Portico' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-certs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CA and server certificate', () => {
  it('the CA is a 10-year RSA 3072 CA that verifies a 397-day serverAuth certificate with the SANs', () => {
    const ca = createCa();
    const server = createServerCert(ca, { hosts: ['portico.example.com', 'Portico'], ips: ['10.1.2.3', '::1'] });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(server.certPem);

    expect(caCert.ca).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true); // self-signed
    expect(caCert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const caYears = (Date.parse(caCert.validTo) - Date.parse(caCert.validFrom)) / (365 * DAY);
    expect(caYears).toBeGreaterThan(9.9);
    expect(caYears).toBeLessThan(10.1);

    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // extKeyUsage serverAuth
    expect(cert.subjectAltName).toBe('DNS:portico.example.com, DNS:portico, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkHost('portico.example.com')).toBe('portico.example.com');
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(cert.checkHost('other.example.com')).toBeUndefined();
    const days = (Date.parse(cert.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(396);
    expect(days).toBeLessThanOrEqual(397);

    for (const pem of [ca.certPem, server.certPem]) expect(forge.pki.certificateFromPem(pem).siginfo.algorithmOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
    const caExt = forge.pki.certificateFromPem(ca.certPem);
    expect(caExt.getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(caExt.getExtension('keyUsage')).toMatchObject({ keyCertSign: true, cRLSign: true, digitalSignature: false });
    const other = createCa({ commonName: 'Someone else' });
    expect(cert.verify(new X509Certificate(other.certPem).publicKey)).toBe(false);
    expect(cert.checkIssued(new X509Certificate(other.certPem))).toBe(false);
  });

  it('the CA may sign server certificates only (pathLenConstraint 0), and each installation names its own', () => {
    const one = createCa();
    const two = createCa();
    for (const pem of [one.certPem, two.certPem]) {
      expect(forge.pki.certificateFromPem(pem).getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true, pathLenConstraint: 0 });
    }
    // OpenSSL enforces it: a leaf under a sub-CA that this CA signed does not verify; a leaf signed by the CA does.
    const sub = createSubCa(one);
    const leafOfSub = createServerCert(sub, { hosts: ['a.example'], ips: [] });
    const files = { ca: join(dir, 'pl-ca.pem'), sub: join(dir, 'pl-sub.pem'), leaf: join(dir, 'pl-leaf.pem'), direct: join(dir, 'pl-direct.pem') };
    writeFileSync(files.ca, one.certPem);
    writeFileSync(files.sub, sub.certPem);
    writeFileSync(files.leaf, leafOfSub.certPem);
    writeFileSync(files.direct, createServerCert(one, { hosts: ['a.example'], ips: [] }).certPem);
    expect(openssl(['verify', '-CAfile', files.ca, files.direct])).toMatch(/OK/);
    expect(openssl(['verify', '-CAfile', files.ca, '-untrusted', files.sub, files.leaf])).toMatch(/path length constraint exceeded/);
    const subject = (pem: string) => new X509Certificate(pem).subject;
    const cn = (pem: string) => /^CN=(.*)$/m.exec(subject(pem))?.[1];
    const host = hostname().toLowerCase();
    expect(cn(one.certPem)).toMatch(new RegExp(`^Portico CA ${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} [0-9a-f]{8}$`));
    expect(cn(one.certPem)).not.toBe(cn(two.certPem));
    expect(new X509Certificate(one.certPem).serialNumber).not.toBe(new X509Certificate(two.certPem).serialNumber);
    // The server certificate names its own CA as issuer, and a sub-CA under it would be invalid.
    const server = new X509Certificate(createServerCert(one, { hosts: ['a.example'], ips: [] }).certPem);
    expect(server.issuer).toBe(subject(one.certPem));
    // A very long host name still fits the 64-character common name.
    expect(cn(createCa({ host: 'x'.repeat(80) }).certPem)!.length).toBeLessThanOrEqual(64);
  });

  it('a CA made before pathLenConstraint (none, the old shared name) keeps working: init and renew reuse it', () => {
    const data = join(dir, 'old-ca');
    const old = createLegacyCa();
    const paths = tlsPaths(data);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.caCert, old.certPem);
    writeFileSync(paths.caKey, old.keyPem, { mode: 0o600 });
    const init = initCertificates(data, { hosts: ['portico.test'], ips: [] });
    expect(init.createdCa).toBe(false);
    expect(readFileSync(paths.caCert, 'utf8')).toBe(old.certPem);
    const caCert = new X509Certificate(old.certPem);
    expect(new X509Certificate(readFileSync(paths.serverCert)).checkIssued(caCert)).toBe(true);
    expect(renewCertificates(data).ca.fingerprint256).toBe(caCert.fingerprint256);
  });

  it('refuses bad names and empty SAN lists', () => {
    expect(() => normalizeSans({ hosts: ['bad name!'], ips: [] })).toThrow(TlsError);
    expect(() => normalizeSans({ hosts: [], ips: ['999.1.1.1'] })).toThrow(/not an IP address/);
    expect(() => normalizeSans({ hosts: [], ips: [] })).toThrow(/at least one/);
    expect(normalizeSans({ hosts: ['A.example.', '10.0.0.1'], ips: ['[::1]'] })).toEqual({ hosts: ['a.example'], ips: ['10.0.0.1', '::1'] });
  });
});

describe('in the data directory', () => {
  it('init writes ca/server pairs 0600 in a 0700 directory; renew keeps the CA and replaces the server certificate', () => {
    const data = join(dir, 'data');
    const paths = tlsPaths(data);
    const first = initCertificates(data, { hosts: ['portico.test'], ips: ['127.0.0.1'] });
    expect(first.createdCa).toBe(true);
    // Keys and certificates alike: every file in the data directory is the server user's only.
    for (const file of [paths.caKey, paths.serverKey, paths.caCert, paths.serverCert]) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(first.ca.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(first.ca.fingerprint256).toBe(new X509Certificate(readFileSync(paths.caCert)).fingerprint256);

    const oldServerPem = readFileSync(paths.serverCert, 'utf8');
    const oldKeyPem = readFileSync(paths.serverKey, 'utf8');
    const renewed = renewCertificates(data);
    expect(renewed.ca.fingerprint256).toBe(first.ca.fingerprint256);
    expect(renewed.server.fingerprint256).not.toBe(first.server.fingerprint256);
    expect(readFileSync(paths.serverKey, 'utf8')).not.toBe(oldKeyPem);
    expect(renewed.server.sans).toEqual({ hosts: ['portico.test'], ips: ['127.0.0.1'] });
    expect(statSync(paths.serverKey).mode & 0o777).toBe(0o600);
    const caCert = new X509Certificate(readFileSync(paths.caCert));
    expect(new X509Certificate(readFileSync(paths.serverCert)).verify(caCert.publicKey)).toBe(true);
    expect(readFileSync(paths.serverCert, 'utf8')).not.toBe(oldServerPem);

    // A second init keeps the CA (clients are pinned to it).
    const again = initCertificates(data, { hosts: ['portico.test', 'portico'], ips: [] });
    expect(again.createdCa).toBe(false);
    expect(again.ca.fingerprint256).toBe(first.ca.fingerprint256);
    expect(certificateStatus(data).server?.sans.hosts).toEqual(['portico.test', 'portico']);
  });

  it('renew without a CA says to run cert init', () => {
    expect(() => renewCertificates(join(dir, 'empty'))).toThrow(/portico cert init/);
  });

  it('an admin-supplied pair: accepted when the key matches, refused clearly when not', () => {
    const ca = createCa();
    const a = createServerCert(ca, { hosts: ['a.example'], ips: [] });
    const b = createServerCert(ca, { hosts: ['b.example'], ips: [] });
    const cert = join(dir, 'own.crt');
    const key = join(dir, 'own.key');
    const wrongKey = join(dir, 'wrong.key');
    writeFileSync(cert, a.certPem);
    writeFileSync(key, a.keyPem);
    writeFileSync(wrongKey, b.keyPem);

    expect(loadServerPair({ certPath: cert, keyPath: key, supplied: true }).cert.subjectAltName).toBe('DNS:a.example');
    expect(() => loadServerPair({ certPath: cert, keyPath: wrongKey, supplied: true })).toThrow(
      `${wrongKey} does not belong to ${cert}: the key does not match the certificate`,
    );
    expect(() => validatePair({ certPem: 'junk', keyPem: a.keyPem })).toThrow(/not a PEM certificate/);
    expect(() => validatePair({ certPem: a.certPem, keyPem: 'junk' })).toThrow(/not a readable PEM private key/);
    expect(() => loadServerPair({ certPath: join(dir, 'missing.crt'), keyPath: key, supplied: true })).toThrow(/cannot read .*missing\.crt: ENOENT/);

    // Config: auto picks the admin's files; one without the other is an error; tls=true without a certificate too.
    const config = (env: Record<string, string>) => loadConfig({ PORTICO_DATA_DIR: join(dir, 'none'), ...env });
    expect(resolveTls(config({ PORTICO_TLS_CERT: cert, PORTICO_TLS_KEY: key }))).toMatchObject({ certPath: cert, keyPath: key, supplied: true });
    expect(() => resolveTls(config({ PORTICO_TLS_CERT: cert }))).toThrow(/give both/);
    expect(resolveTls(config({}))).toBeUndefined();
    expect(resolveTls(config({ PORTICO_TLS: 'false', PORTICO_TLS_CERT: cert, PORTICO_TLS_KEY: key }))).toBeUndefined();
    expect(() => resolveTls(config({ PORTICO_TLS: 'true' }))).toThrow(/portico cert init/);
    expect(() => config({ PORTICO_TLS: 'maybe' })).toThrow(/PORTICO_TLS/);
  });
});
