import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { SecretBox } from '@wharf/secrets';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DefaultCertificate {
  domain: string;
  certificatePem: string;
  privateKeyPem: string;
}

interface Stored {
  domain: string;
  cert_pem: string;
  key_pem?: string;
  key_sealed_b64?: string;
}

const KEY_CONTEXT = 'lb/default-cert';
/** Renewed this long before it expires. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** A self-signed certificate for the domain and every name under it (openssl, Debian's package). */
export function generateSelfSigned(domain: string, days = 825, binary = 'openssl'): Promise<DefaultCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-lb-cert-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days)];
  args.push('-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain},DNS:*.${domain}`, '-keyout', key, '-out', cert);
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      try {
        if (err) return reject(new Error(`openssl could not make the default certificate: ${stderr.trim() || err.message}`));
        resolve({ domain, certificatePem: readFileSync(cert, 'utf8'), privateKeyPem: readFileSync(key, 'utf8') });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/**
 * The data center's default certificate, the same on every lb-manager instance: read from
 * etcd, or made once and stored create-only (the instance that loses the race reads the
 * winner's). Replaced (compare-and-swap on its revision) when the domain changes or it is
 * about to expire. The key is sealed when lb-manager has the data center's secret key.
 */
export async function ensureDefaultCertificate(options: {
  client: Etcd3;
  keys: KeyLayout;
  domain: string;
  nowMs: number;
  box?: SecretBox;
  logger: Logger;
  generate?: (domain: string) => Promise<DefaultCertificate>;
}): Promise<DefaultCertificate> {
  const key = options.keys.lb.defaultCertificate();
  const generate = options.generate ?? ((d: string) => generateSelfSigned(d));
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await options.client.get(key).exec();
    const kv = res.kvs[0];
    let current: DefaultCertificate | undefined;
    let why = 'none stored yet';
    if (kv) {
      try {
        current = decode(JSON.parse(kv.value.toString()) as Stored, options.box);
        const notAfter = Date.parse(new X509Certificate(current.certificatePem).validTo);
        if (current.domain !== options.domain) why = `stored for ${current.domain}, the domain is ${options.domain}`;
        else if (notAfter - options.nowMs < RENEW_BEFORE_MS) why = `expires ${new Date(notAfter).toISOString()}`;
        else return current;
      } catch (err) {
        why = `stored one unreadable: ${(err as Error).message}`;
      }
    }
    const made = await generate(options.domain);
    const value = JSON.stringify(encode(made, options.box));
    const txn = options.client.if(key, 'Mod', '==', kv ? kv.mod_revision : '0').then(options.client.put(key).value(value));
    const done = await txn.commit();
    if (done.succeeded) {
      options.logger.info({ domain: options.domain, why }, 'default certificate made');
      return made;
    }
    // Another instance wrote one meanwhile: read it.
  }
  throw new Error(`could not settle the default certificate in ${key} after 5 attempts`);
}

function encode(c: DefaultCertificate, box?: SecretBox): Stored {
  return box
    ? { domain: c.domain, cert_pem: c.certificatePem, key_sealed_b64: Buffer.from(box.seal(c.privateKeyPem, KEY_CONTEXT)).toString('base64') }
    : { domain: c.domain, cert_pem: c.certificatePem, key_pem: c.privateKeyPem };
}

function decode(s: Stored, box?: SecretBox): DefaultCertificate {
  if (s.key_sealed_b64 !== undefined) {
    if (!box) throw new Error('its key is sealed and lb-manager has no WHARF_SECRET_KEY');
    return { domain: s.domain, certificatePem: s.cert_pem, privateKeyPem: box.open(Buffer.from(s.key_sealed_b64, 'base64'), KEY_CONTEXT) };
  }
  if (typeof s.key_pem !== 'string') throw new Error('it has no key');
  return { domain: s.domain, certificatePem: s.cert_pem, privateKeyPem: s.key_pem };
}
