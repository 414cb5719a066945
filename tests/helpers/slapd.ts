/**
 * A real OpenLDAP (Debian's slapd) for the tests: its own slapd.conf, an mdb database and a small
 * directory loaded with slapadd, in a temporary directory, on free loopback ports (ldap:// with
 * StartTLS and ldaps://, a certificate from a test CA), in its own process group; stop() ends it,
 * an exit hook too. The ppolicy overlay is loaded so that `pwdAccountLockedTime` (the default
 * "disabled" rule) exists and slapd itself refuses locked accounts too.
 *
 * The directory (dc=example,dc=com):
 *   ou=people: alice (displayName "Alice Archer"), bob (cn only: "Bob Builder"), carol, and
 *              dave, disabled (pwdAccountLockedTime set); passwords `${uid}-secret`
 *   ou=services: cn=portico, the search account (password SERVICE_PASSWORD)
 *   ou=groups: sales (alice, bob, dave), engineering (carol), and a posixGroup "ignored" the
 *              tests' group filter leaves out
 * Anonymous users may only bind: searching needs the service account.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { createCa, createServerCert } from '../../server/src/tls/certs.js';
import { freePort, killGroup, track, waitForPort } from './squid.js';

export const SLAPD = process.env.SLAPD_PATH ?? '/usr/sbin/slapd';
export const SLAPADD = process.env.SLAPADD_PATH ?? '/usr/sbin/slapadd';
export const HAVE_SLAPD = spawnSync('sh', ['-c', `command -v ${SLAPD} && command -v ${SLAPADD}`]).status === 0;

export const BASE_DN = 'dc=example,dc=com';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const SERVICE_DN = `cn=portico,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'service-secret';
export const passwordOf = (uid: string) => `${uid}-secret`;

const person = (uid: string, cn: string, extra: string[] = []) => [
  `dn: uid=${uid},${PEOPLE_DN}`,
  'objectClass: inetOrgPerson',
  `uid: ${uid}`,
  `cn: ${cn}`,
  `sn: ${cn.split(' ').pop()}`,
  `userPassword: ${passwordOf(uid)}`,
  ...extra,
  '',
];

const LDIF = [
  [`dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'o: Example', 'dc: example', ''],
  [`dn: ${PEOPLE_DN}`, 'objectClass: organizationalUnit', 'ou: people', ''],
  [`dn: ou=services,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: services', ''],
  [`dn: ${GROUPS_DN}`, 'objectClass: organizationalUnit', 'ou: groups', ''],
  [`dn: ${SERVICE_DN}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: portico', `userPassword: ${SERVICE_PASSWORD}`, ''],
  person('alice', 'Alice A.', ['displayName: Alice Archer']),
  person('bob', 'Bob Builder'),
  person('carol', 'Carol Cook'),
  person('dave', 'Dave Disabled', ['pwdAccountLockedTime: 000001010000Z']),
  [`dn: cn=sales,${GROUPS_DN}`, 'objectClass: groupOfNames', 'cn: sales', 'description: Sales', ...['alice', 'bob', 'dave'].map((u) => `member: uid=${u},${PEOPLE_DN}`), ''],
  [`dn: cn=engineering,${GROUPS_DN}`, 'objectClass: groupOfNames', 'cn: engineering', `member: uid=carol,${PEOPLE_DN}`, ''],
  [`dn: cn=ignored,${GROUPS_DN}`, 'objectClass: posixGroup', 'cn: ignored', 'gidNumber: 5000', 'memberUid: alice', ''],
]
  .flat()
  .join('\n');

export interface Slapd {
  /** ldap://127.0.0.1:<port> (StartTLS offered) */
  url: string;
  /** ldaps://localhost:<port> */
  ldapsUrl: string;
  /** The PEM file of the CA that signed slapd's certificate. */
  caFile: string;
  dir: string;
  /** A client bound as the directory's root, for changes made by a test. */
  admin<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startSlapd(): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-slapd-'));
  mkdirSync(join(dir, 'db'));
  const ca = createCa({ commonName: 'Portico test LDAP CA' });
  const server = createServerCert(ca, { hosts: ['localhost'], ips: ['127.0.0.1'] });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.certPem);
  writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload ppolicy',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `argsfile ${join(dir, 'slapd.args')}`,
      `TLSCACertificateFile ${caFile}`,
      `TLSCertificateFile ${join(dir, 'server.pem')}`,
      `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
      'database mdb',
      `suffix "${BASE_DN}"`,
      `rootdn "${ROOT_DN}"`,
      'rootpw root-secret',
      `directory ${join(dir, 'db')}`,
      'maxsize 10485760',
      'overlay ppolicy',
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'data.ldif'), LDIF);
  const add = spawnSync(SLAPADD, ['-f', conf, '-l', join(dir, 'data.ldif')], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`slapadd failed: ${add.stderr}`);
  const [port, ldapsPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(SLAPD, ['-f', conf, '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${ldapsPort}/`, '-d', '0'], {
    detached: true,
    stdio: 'ignore',
  });
  track(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000, () => child.exitCode === null);
  await waitForPort(ldapsPort, 10_000, () => child.exitCode === null);
  const url = `ldap://127.0.0.1:${port}`;
  return {
    url,
    ldapsUrl: `ldaps://localhost:${ldapsPort}`,
    caFile,
    dir,
    async admin(fn) {
      const client = new Client({ url });
      try {
        await client.bind(ROOT_DN, 'root-secret');
        return await fn(client);
      } finally {
        await client.unbind();
      }
    },
    async stop() {
      if (child.exitCode === null) {
        killGroup(child, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
