import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@wharf/config';
import { checkTlsMaterial, createCa, ensurePki, identityOfCertificate, identityOfPem, issueCertificate, transportSecurityFromConfig } from './index';

const b = (s: string) => Buffer.from(s);

describe('identityOfCertificate', () => {
  it('reads the spiffe://wharf/<name> SAN URI when the CN agrees', () => {
    expect(identityOfCertificate({ subject: { CN: 'mq' }, subjectaltname: 'URI:spiffe://wharf/mq, DNS:localhost' })).toBe('mq');
    expect(identityOfCertificate({ subjectaltname: 'DNS:localhost, URI:spiffe://wharf/event-log' })).toBe('event-log');
  });

  it('refuses certificates that prove no single identity', () => {
    expect(identityOfCertificate(undefined)).toBeUndefined();
    expect(identityOfCertificate({ subject: { CN: 'mq' } })).toBeUndefined();
    expect(identityOfCertificate({ subject: { CN: 'mq' }, subjectaltname: 'URI:spiffe://wharf/builder' })).toBeUndefined();
    expect(identityOfCertificate({ subjectaltname: 'URI:spiffe://wharf/mq, URI:spiffe://wharf/builder' })).toBeUndefined();
    expect(identityOfCertificate({ subjectaltname: 'URI:spiffe://other/mq' })).toBeUndefined();
    expect(identityOfCertificate({ subjectaltname: 'URI:spiffe://wharf/MQ' })).toBeUndefined();
  });
});

describe('issuing', () => {
  it('makes a CA and certificates for an identity, loopback and extra hosts', async () => {
    const ca = await createCa();
    const leaf = await issueCertificate(ca, { identity: 'builder', hosts: ['node-1.dc', '10.0.0.7'] });
    const cert = new X509Certificate(leaf.certPem);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      'URI:spiffe://wharf/builder, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:node-1.dc, IP Address:10.0.0.7',
    );
    expect(identityOfPem(leaf.certPem)).toBe('builder');
    expect(checkTlsMaterial({ ca: b(ca.certPem), cert: b(leaf.certPem), key: b(leaf.keyPem) }, 'builder').identity).toBe('builder');
  });

  it('refuses a bad identity name', async () => {
    await expect(issueCertificate(await createCa(), { identity: 'Not Valid' })).rejects.toThrow(/identity "Not Valid"/);
  });

  it('checkTlsMaterial says which input is wrong and why', async () => {
    const ca = await createCa();
    const other = await createCa();
    const mq = await issueCertificate(ca, { identity: 'mq' });
    const stranger = await issueCertificate(other, { identity: 'mq' });
    const expired = await issueCertificate(ca, { identity: 'mq', notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) });
    const check =
      (cert: string, key = mq.keyPem, expect = 'mq', caPem = ca.certPem) =>
      () =>
        checkTlsMaterial({ ca: b(caPem), cert: b(cert), key: b(key) }, expect);
    expect(check(stranger.certPem, stranger.keyPem)).toThrow(/not signed by the CA/);
    expect(check(expired.certPem, expired.keyPem)).toThrow(/not valid now/);
    expect(check(mq.certPem, mq.keyPem, 'builder')).toThrow("is mq's certificate, not builder's");
    expect(check(mq.certPem, stranger.keyPem)).toThrow("is not the certificate's key");
    expect(check(mq.certPem, mq.keyPem, 'mq', mq.certPem)).toThrow(/is not a CA certificate/);
    expect(check('garbage')).toThrow(/not a PEM certificate/);
    expect(check(mq.certPem, 'garbage')).toThrow(/not a PEM private key/);
  });
});

describe('ensurePki', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-pki-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the CA once, issues what is missing, keeps keys private', async () => {
    const first = await ensurePki(dir, { identities: ['mq', 'admin'] });
    expect(first.createdCa).toBe(true);
    expect(first.issued).toEqual(['mq', 'admin']);
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'mq.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const caBefore = readFileSync(first.caFile, 'utf8');
    const again = await ensurePki(dir, { identities: ['mq', 'admin', 'builder'] });
    expect(again).toMatchObject({ createdCa: false, issued: ['builder'] });
    expect(readFileSync(first.caFile, 'utf8')).toBe(caBefore);
    expect(identityOfPem(readFileSync(again.files('builder').certFile))).toBe('builder');
  });

  it('issues again a certificate that expires soon, lacks a host or comes from another CA', async () => {
    const { files } = await ensurePki(dir, { identities: ['mq'] });
    const other = await createCa();
    writeFileSync(files('mq').certFile, (await issueCertificate(other, { identity: 'mq' })).certPem);
    expect((await ensurePki(dir, { identities: ['mq'] })).issued).toEqual(['mq']);
    expect((await ensurePki(dir, { identities: ['mq'], hosts: ['node-2'] })).issued).toEqual(['mq']);
    expect((await ensurePki(dir, { identities: ['mq'], hosts: ['node-2'] })).issued).toEqual([]);
    expect((await ensurePki(dir, { identities: ['mq'], hosts: ['node-2'], renewWithinDays: 400 })).issued).toEqual(['mq']);
  });
});

describe('transportSecurityFromConfig', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-pki-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const problems = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('loads the three files as the expected identity', async () => {
    const { files } = await ensurePki(dir, { identities: ['mq'] });
    const f = files('mq');
    const security = transportSecurityFromConfig(
      { WHARF_TLS_CA_FILE: f.caFile, WHARF_TLS_CERT_FILE: f.certFile, WHARF_TLS_KEY_FILE: f.keyFile, WHARF_INSECURE_DEV: false },
      'mq',
      () => undefined,
    );
    expect(security.mode === 'mtls' && security.tls.identity).toBe('mq');
    expect(
      problems(() =>
        transportSecurityFromConfig(
          { WHARF_TLS_CA_FILE: f.caFile, WHARF_TLS_CERT_FILE: f.certFile, WHARF_TLS_KEY_FILE: f.keyFile, WHARF_INSECURE_DEV: false },
          'event-log',
          () => undefined,
        ),
      ),
    ).toEqual([`WHARF_TLS_CERT_FILE: ${f.certFile}: is mq's certificate, not event-log's`]);
    expect(
      problems(() =>
        transportSecurityFromConfig(
          { WHARF_TLS_CA_FILE: join(dir, 'nope.crt'), WHARF_TLS_CERT_FILE: f.certFile, WHARF_TLS_KEY_FILE: f.keyFile, WHARF_INSECURE_DEV: false },
          'mq',
          () => undefined,
        ),
      ),
    ).toEqual([`WHARF_TLS_CA_FILE: ${join(dir, 'nope.crt')}: cannot read ${join(dir, 'nope.crt')}: ENOENT`]);
  });

  it('refuses to start without TLS unless WHARF_INSECURE_DEV=1, which it says loudly', () => {
    expect(problems(() => transportSecurityFromConfig({ WHARF_INSECURE_DEV: false }, 'mq', () => undefined))).toEqual([
      expect.stringMatching(/^WHARF_TLS_CA_FILE: missing: services talk only over mutual TLS.*WHARF_INSECURE_DEV=1/),
      expect.stringMatching(/^WHARF_TLS_CERT_FILE: missing/),
      expect.stringMatching(/^WHARF_TLS_KEY_FILE: missing/),
    ]);
    expect(problems(() => transportSecurityFromConfig({ WHARF_TLS_CERT_FILE: 'x', WHARF_INSECURE_DEV: true }, 'mq', () => undefined))).toEqual([
      'WHARF_TLS_CA_FILE: missing while WHARF_TLS_CERT_FILE is set: mutual TLS needs all three',
      'WHARF_TLS_KEY_FILE: missing while WHARF_TLS_CERT_FILE is set: mutual TLS needs all three',
    ]);
    const warnings: string[] = [];
    expect(transportSecurityFromConfig({ WHARF_INSECURE_DEV: true }, 'mq', (m) => warnings.push(m))).toEqual({ mode: 'insecure-dev' });
    expect(warnings).toEqual([expect.stringMatching(/WITHOUT TLS/)]);
  });
});
