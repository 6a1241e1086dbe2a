import { parseGitUrl } from '../domain/git-source';
import { explainGitError, type CheckoutRequest } from './git.adapter';

const request = (url: string): CheckoutRequest => ({
  url: parseGitUrl(url),
  ref: { kind: 'branch', name: 'main' },
  fullClone: false,
  dir: '/nonexistent',
  secretsDir: '/nonexistent',
  auth: {},
  maxBytes: 1 << 20,
  onLine: () => undefined,
});

describe('explainGitError', () => {
  it('says a refused connection is unreachable, even when the port has 403 or 404 in it', () => {
    for (const port of [34037, 40404]) {
      const lines = [
        "Cloning into '/builds/evt-1/src'...",
        `ssh: connect to host 127.0.0.1 port ${port}: Connection refused`,
        'fatal: Could not read from remote repository.',
        'Please make sure you have the correct access rights',
      ];
      expect(explainGitError(request(`ssh://127.0.0.1:${port}/srv/app.git`), 'exit 128', lines, 60_000)).toBe(
        `repository ssh://127.0.0.1:${port}/srv/app.git is unreachable: ssh: connect to host 127.0.0.1 port ${port}: Connection refused`,
      );
    }
  });

  it("says an untrusted TLS certificate is one, in gnutls's and OpenSSL's words, and where to add its CA", () => {
    const url = 'https://git.corp.example/acme/app.git';
    for (const line of [
      "fatal: unable to access 'https://git.corp.example/acme/app.git/': server certificate verification failed. CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none",
      "fatal: unable to access 'https://git.corp.example/acme/app.git/': SSL certificate problem: unable to get local issuer certificate",
    ])
      expect(explainGitError(request(url), 'exit 128', [line], 60_000)).toBe(
        "the TLS certificate of git.corp.example is not trusted: add the CA that signed it to the builder's CA bundle (WHARF_BUILDER_CA_BUNDLE)",
      );
  });

  it("reads git's HTTP 403 as an authentication failure and its 404 as a missing repository", () => {
    const url = 'http://127.0.0.1:8080/acme/app.git';
    expect(
      explainGitError(
        request(url),
        'exit 128',
        ["fatal: unable to access 'http://127.0.0.1:8080/acme/app.git/': The requested URL returned error: 403"],
        60_000,
      ),
    ).toMatch(/^authentication to .* failed/);
    expect(
      explainGitError(
        request(url),
        'exit 128',
        ["fatal: unable to access 'http://127.0.0.1:8080/acme/app.git/': The requested URL returned error: 404"],
        60_000,
      ),
    ).toBe(`repository ${url} not found`);
  });
});
