import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideTrust, VERIFY_PROC_RESULT, type PlainCertificate, type VerifyRequest } from '../../electron/main/trust.js';

// Test certificates (P-256, valid 2026-11-22 .. 2126-10-29), made with openssl:
// ORGCA: the organisation's root CA (CN "Example Org CA"); LEAF: portico.example.com + IP 10.1.2.3,
// issued by ORGCA; OTHER: other.example.com, issued by ORGCA; EVILCA: another key with the same
// name "Example Org CA"; EVILLEAF: portico.example.com issued by EVILCA; INTER: an intermediate
// CA issued by ORGCA; LEAF2: portico.example.com issued by INTER.
const ORGCA_PEM = `-----BEGIN CERTIFICATE-----
MIIBmTCCAT+gAwIBAgIUCIkt9MjkaLy3Gb/KapazQ0xVVFAwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTI5WhgPMjEy
NjEwMjkwMzE5MjlaMBkxFzAVBgNVBAMMDkV4YW1wbGUgT3JnIENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE0H+RvbddyEV0ZuKgr9IK3mVOijdhSicO6Mhbr+Du
pmQVi5G89YcWUVWzVaxufiKmI9QTchouzWPAAcIocAj/dKNjMGEwHQYDVR0OBBYE
FDRIgfFebfCI0bisL9OF8OvNUQttMB8GA1UdIwQYMBaAFDRIgfFebfCI0bisL9OF
8OvNUQttMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49
BAMCA0gAMEUCIDn5GkXCt8aTdz7vWRTd8U0opF2m5N4pklhmNx9LIDnAAiEAvPgU
nyvRneeQs94o1ogLobCx+7HswIVHJ6nxE6vrHu0=
-----END CERTIFICATE-----`;
const EVILCA_PEM = `-----BEGIN CERTIFICATE-----
MIIBmTCCAT+gAwIBAgIUXIYIEEK38zlEkCQo/f7gjI5AWvwwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTI5WhgPMjEy
NjEwMjkwMzE5MjlaMBkxFzAVBgNVBAMMDkV4YW1wbGUgT3JnIENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEcnrPaOHzDTWmZ8L8nA1PRxtj1+Lkwe+exLCmwIE2
tLAlFvxorusaUXaKMR5QWjKo144+HLr5+fjngqzPP9SWYaNjMGEwHQYDVR0OBBYE
FPEYyKIbvkbgtSbesHrpBA/lKbhCMB8GA1UdIwQYMBaAFPEYyKIbvkbgtSbesHrp
BA/lKbhCMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49
BAMCA0gAMEUCIQDeKK57tLHhJu+RR0U7M7/23F/mENSJZtMFjxwlXYgl0AIgQlYx
dGWSU+fBF+gyj/aEvTrIEb+HuH1cQpmZySUeCGE=
-----END CERTIFICATE-----`;
const LEAF_PEM = `-----BEGIN CERTIFICATE-----
MIIBxjCCAWugAwIBAgIUbo0PmnRiVy47lgW5bbe5Uczi71IwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTMwWhgPMjEy
NjEwMjkwMzE5MzBaMB4xHDAaBgNVBAMME3BvcnRpY28uZXhhbXBsZS5jb20wWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAARkt1vaY3VmxTCqakptB2KzsnyQobs+cM8p
EpSXzoMFEny1e4K0Kh18hP0ajy3iKGWXkgNfQ/GxuviUsyVP01zVo4GJMIGGMAkG
A1UdEwQCMAAwJAYDVR0RBB0wG4ITcG9ydGljby5leGFtcGxlLmNvbYcECgECAzAT
BgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUMIKmTM8BaCoBGLH9SU1E6iCV
2KswHwYDVR0jBBgwFoAUNEiB8V5t8IjRuKwv04Xw681RC20wCgYIKoZIzj0EAwID
SQAwRgIhAIuIj2EyVKxZZ5Z9TggC3tODPgAnBgBQhn0ZFdSncFIGAiEAsSsMxAGe
ihMeuXtGGdSMaCLICa2IiMoAnI+wqMU4j2c=
-----END CERTIFICATE-----`;
const OTHER_PEM = `-----BEGIN CERTIFICATE-----
MIIBuzCCAWCgAwIBAgIUbo0PmnRiVy47lgW5bbe5Uczi71MwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTMwWhgPMjEy
NjEwMjkwMzE5MzBaMBwxGjAYBgNVBAMMEW90aGVyLmV4YW1wbGUuY29tMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEMotEl/cFFGFLhrZpT1p6+k/HZ0vLrpKspGft
fCpxBAeGHSmBQhJ5Zr/zNMZefaOsxkOO9TzrRvXG1tFIf4Jb/6OBgDB+MAkGA1Ud
EwQCMAAwHAYDVR0RBBUwE4IRb3RoZXIuZXhhbXBsZS5jb20wEwYDVR0lBAwwCgYI
KwYBBQUHAwEwHQYDVR0OBBYEFKtBvI1DexGPXXQxhNe0f4nzzPUsMB8GA1UdIwQY
MBaAFDRIgfFebfCI0bisL9OF8OvNUQttMAoGCCqGSM49BAMCA0kAMEYCIQC8ipB3
InWOPWbqBtGE5pDQk8iB6s7jKgItuLvqiNqiAgIhAJWdm4DQtFjod7LrKrgHgtM6
a58Y/4At3uosmu9hR/wT
-----END CERTIFICATE-----`;
const EVILLEAF_PEM = `-----BEGIN CERTIFICATE-----
MIIBvzCCAWWgAwIBAgIUcW9TFOHB9iWpRMMh4rs/mvTY/VQwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTMwWhgPMjEy
NjEwMjkwMzE5MzBaMB4xHDAaBgNVBAMME3BvcnRpY28uZXhhbXBsZS5jb20wWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAASr+bFmQSGwbTPJkpB2XKwTtR8JhTpLFYhA
8TKA3b7CJMPZLQoPyrQ/fUKtx5AUdHV5NqBoupCNnHz0rrAQJXheo4GDMIGAMAkG
A1UdEwQCMAAwHgYDVR0RBBcwFYITcG9ydGljby5leGFtcGxlLmNvbTATBgNVHSUE
DDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUs0pvPWZGOAIGCchFakeSWMPtpdswHwYD
VR0jBBgwFoAU8RjIohu+RuC1Jt6weukED+UpuEIwCgYIKoZIzj0EAwIDSAAwRQIh
ALZhBYk88leiFWQ7/EqWBre41VejIehJGbpiCAhIVRBbAiBFDIEY1L5heGAHr3ol
RyOLAVC/mGRjek5p7sySacykDQ==
-----END CERTIFICATE-----`;
const INTER_PEM = `-----BEGIN CERTIFICATE-----
MIIBnzCCAUagAwIBAgIUbo0PmnRiVy47lgW5bbe5Uczi71QwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwORXhhbXBsZSBPcmcgQ0EwIBcNMjYxMTIyMDMxOTM1WhgPMjEy
NjEwMjkwMzE5MzVaMB0xGzAZBgNVBAMMEkV4YW1wbGUgSXNzdWluZyBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABLPB7HBImQDFuFR8/sOtgGRNHZKp3olYbnAv
GhFRDjt5e/RoTvMD0Fjiw1gMtK56Gn2VJZ1TFIi8A9A0Xr0rq7qjZjBkMBIGA1Ud
EwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBTOeL/Jr4Da
+fHK+xfuSxFGU05qGjAfBgNVHSMEGDAWgBQ0SIHxXm3wiNG4rC/ThfDrzVELbTAK
BggqhkjOPQQDAgNHADBEAiBwRZSJPN3A4C2WCQu4QthGlM0f9lOC2cc7DQitfb1i
mQIgV/L9NAYrmElcltWyyvJT5L8IYGQ3jxBoopS8c01a3Bc=
-----END CERTIFICATE-----`;
const LEAF2_PEM = `-----BEGIN CERTIFICATE-----
MIIBqzCCAVKgAwIBAgIUMWfaizPT3mO1ckmMb+aEV1pSk2QwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSRXhhbXBsZSBJc3N1aW5nIENBMCAXDTI2MTEyMjAzMTkzNVoY
DzIxMjYxMDI5MDMxOTM1WjAeMRwwGgYDVQQDDBNwb3J0aWNvLmV4YW1wbGUuY29t
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiBRYMQe/fhHgu3I5jelAC7VCr9Oc
dO1MMdVDuGmLq25cTyeLJSBN7gQbbrsBOE7T2Q779+TTRpeFFFjomVajXqNtMGsw
CQYDVR0TBAIwADAeBgNVHREEFzAVghNwb3J0aWNvLmV4YW1wbGUuY29tMB0GA1Ud
DgQWBBSar7xzwZMxvCb3WwqKuI+KcDN5wjAfBgNVHSMEGDAWgBTOeL/Jr4Da+fHK
+xfuSxFGU05qGjAKBggqhkjOPQQDAgNHADBEAiBNNETWq7JCQ/IVievfy8R/9W30
wUzRSUeQX/Qlh9yqHAIgVzYlxY4kg+5PQXGmflMRUI7b2TWdZzknPW/+AnD9cB4=
-----END CERTIFICATE-----`;

const ORG_CA_FINGERPRINT = 'FA:89:04:57:73:AD:9F:BA:4E:E0:83:B4:0F:86:D1:DC:A0:F0:DE:AA:6C:55:C4:90:36:6A:FB:5B:EC:10:EA:1C';
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
const NOW = new Date('2030-01-01T00:00:00Z');
const SETTINGS = { serverUrl: 'https://portico.example.com', caFingerprint256: ORG_CA_FINGERPRINT };

/** A chain as Electron hands it over: leaf first, each with its issuerCert. */
function chain(...pems: string[]): PlainCertificate {
  const [first, ...rest] = pems;
  return { data: first!, fingerprint: 'sha256/ignored', issuerCert: rest.length > 0 ? chain(...rest) : undefined };
}
function request(certificate: PlainCertificate, hostname = 'portico.example.com', verificationResult = 'net::ERR_CERT_AUTHORITY_INVALID'): VerifyRequest {
  return { hostname, certificate, verificationResult };
}

describe('decideTrust', () => {
  it('the test fixtures are what they claim', () => {
    expect(fingerprint(ORGCA_PEM)).toBe(ORG_CA_FINGERPRINT);
    expect(new X509Certificate(LEAF_PEM).checkIssued(new X509Certificate(ORGCA_PEM))).toBe(true);
    expect(new X509Certificate(EVILLEAF_PEM).issuer).toBe(new X509Certificate(ORGCA_PEM).subject); // same issuer name ...
    expect(new X509Certificate(EVILLEAF_PEM).verify(new X509Certificate(ORGCA_PEM).publicKey)).toBe(false); // ... other key
  });

  it('keeps what Chromium already verified, whatever the configuration', () => {
    for (const result of ['net::OK', 'OK']) {
      const decision = decideTrust(request(chain(OTHER_PEM), 'www.example.org', result), {}, NOW);
      expect(decision.verdict).toBe('chromium');
      expect(VERIFY_PROC_RESULT[decision.verdict]).toBe(-3);
    }
  });

  it('accepts a server certificate issued by the configured CA, for the configured host', () => {
    const decision = decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), SETTINGS, NOW);
    expect(decision).toEqual({ verdict: 'accept', reason: 'issued by the configured CA' });
    expect(VERIFY_PROC_RESULT.accept).toBe(0);
  });

  it('accepts through an intermediate CA, and with the fingerprint spelled without colons in any case', () => {
    const settings = { ...SETTINGS, caFingerprint256: ORG_CA_FINGERPRINT.replace(/:/g, '').toLowerCase() };
    expect(decideTrust(request(chain(LEAF2_PEM, INTER_PEM, ORGCA_PEM)), settings, NOW).verdict).toBe('accept');
  });

  it('accepts the configured host in any case, with a trailing dot, and by IP address', () => {
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM), 'Portico.Example.COM.'), SETTINGS, NOW).verdict).toBe('accept');
    const byIp = { ...SETTINGS, serverUrl: 'https://10.1.2.3:8443' };
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM), '10.1.2.3'), byIp, NOW).verdict).toBe('accept');
  });

  it('refuses the right CA for any host but the configured one', () => {
    const decision = decideTrust(request(chain(OTHER_PEM, ORGCA_PEM), 'other.example.com'), SETTINGS, NOW);
    expect(decision).toEqual({ verdict: 'reject', reason: 'other.example.com is not the configured server host' });
    expect(VERIFY_PROC_RESULT.reject).toBe(-2);
  });

  it('refuses a certificate of the right CA that names another host', () => {
    const decision = decideTrust(request(chain(OTHER_PEM, ORGCA_PEM)), SETTINGS, NOW);
    expect(decision).toEqual({ verdict: 'reject', reason: 'the server certificate is not for portico.example.com' });
  });

  it('refuses a chain whose CA has the wrong fingerprint', () => {
    expect(decideTrust(request(chain(EVILLEAF_PEM, EVILCA_PEM)), SETTINGS, NOW)).toEqual({
      verdict: 'reject',
      reason: 'the configured CA is not in the presented chain',
    });
    const wrong = { ...SETTINGS, caFingerprint256: fingerprint(EVILCA_PEM) };
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), wrong, NOW).verdict).toBe('reject');
  });

  it('refuses a forged chain that merely contains the configured CA certificate', () => {
    expect(decideTrust(request(chain(EVILLEAF_PEM, ORGCA_PEM)), SETTINGS, NOW)).toEqual({
      verdict: 'reject',
      reason: 'certificate 0 is not signed by certificate 1',
    });
    expect(decideTrust(request(chain(EVILLEAF_PEM, EVILCA_PEM, ORGCA_PEM)), SETTINGS, NOW).verdict).toBe('reject');
  });

  it('refuses a leaf used as an issuer', () => {
    expect(decideTrust(request(chain(LEAF_PEM, OTHER_PEM, ORGCA_PEM)), SETTINGS, NOW)).toEqual({ verdict: 'reject', reason: 'certificate 1 is not a CA' });
  });

  it('refuses outside the validity period', () => {
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), SETTINGS, new Date('2200-01-01')).reason).toBe('certificate 0 is expired or not yet valid');
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), SETTINGS, new Date('2020-01-01')).verdict).toBe('reject');
  });

  it('refuses everything not verified by Chromium when no CA fingerprint or server is configured', () => {
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), { serverUrl: SETTINGS.serverUrl }, NOW).verdict).toBe('reject');
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), { caFingerprint256: ORG_CA_FINGERPRINT }, NOW).verdict).toBe('reject');
    expect(decideTrust(request(chain(LEAF_PEM, ORGCA_PEM)), { ...SETTINGS, serverUrl: 'not a url' }, NOW).verdict).toBe('reject');
  });

  it('refuses unreadable certificates', () => {
    expect(decideTrust(request(chain('garbage', ORGCA_PEM)), SETTINGS, NOW)).toEqual({ verdict: 'reject', reason: 'unreadable certificate in the chain' });
  });

  it('accepts a pinned server certificate itself (fingerprint of the leaf), still only for its host', () => {
    const pinned = { ...SETTINGS, caFingerprint256: fingerprint(LEAF_PEM) };
    expect(decideTrust(request(chain(LEAF_PEM)), pinned, NOW)).toEqual({ verdict: 'accept', reason: 'the pinned certificate itself' });
    expect(decideTrust(request(chain(LEAF_PEM), 'evil.example.net'), pinned, NOW).verdict).toBe('reject');
  });

  it('survives a chain that loops back on itself', () => {
    const looped: PlainCertificate = { data: EVILLEAF_PEM };
    looped.issuerCert = looped;
    expect(decideTrust(request(looped), SETTINGS, NOW).verdict).toBe('reject');
  });
});
