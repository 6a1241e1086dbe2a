import {
  clientSecurity,
  fakeWorkers,
  launchChromium,
  startConsole,
  startDataCenter,
  startEtcd,
  startNodeManager,
  waitFor,
  type EtcdInstance,
  type RunningConsole,
  type RunningDataCenter,
  type RunningNodeManager,
  type Script,
} from '@wharf/testing';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/** Screenshots of each step, kept as test artefacts (gitignored). */
const ARTEFACTS = join(__dirname, '..', '..', 'test-artifacts', 'console');

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

/**
 * The web console in headless Chromium (Debian's, through playwright-core) against two real
 * data centers: sign in, add both, create a component from an image in both at once, watch
 * its timeline live, stop one data center and see it unreachable while the other works.
 * Workers (builder, app-manager) are played over event-log until they exist.
 */
describe('web console in a real browser over two data centers', () => {
  let etcd: EtcdInstance;
  let east: RunningDataCenter;
  let west: RunningDataCenter;
  let consoleServer: RunningConsole;
  let browser: Browser;
  let page: Page;
  const workers: { stop(): Promise<void> }[] = [];
  let node: RunningNodeManager;
  const nodeId = `east-node-${process.pid}`;
  const shot = (name: string) => page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });

  // The first builds hold at step 10 until the test has seen them live (bounded: 20 s at most), so
  // "live" does not depend on how fast this machine is; later operations run straight through.
  let releaseBuilds = () => undefined as void;
  const held = new Promise<void>((resolve) => (releaseBuilds = resolve));
  // Each played worker streams a build with lines over a second or so, then a rollout: a timeline to watch live.
  const script: Script = async (_op, report) => {
    const build = report.step('build');
    for (let i = 1; i <= 20; i++) {
      build.line(`Step ${i}/20 : RUN make`);
      if (i === 10) await Promise.race([held, new Promise((r) => setTimeout(r, 20_000))]);
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 150));
    }
    build.ok();
    const rollout = report.step('rollout/replica-1');
    rollout.line('replica-1 healthy');
    rollout.ok();
    report.done();
  };

  beforeAll(async () => {
    mkdirSync(ARTEFACTS, { recursive: true });
    etcd = await startEtcd();
    [east, west] = await Promise.all([startDataCenter(etcd, 'east'), startDataCenter(etcd, 'west')]);
    for (const dc of [east, west]) {
      await api(dc.url, dc.adminToken, 'POST', '/api/v1/tenants', { name: 'acme' });
      workers.push(fakeWorkers(dc.url, dc.adminToken, 'acme', dc.eventLog.grpc, clientSecurity(etcd, 'builder'), script));
    }
    await api(east.url, east.adminToken, 'POST', '/api/v1/tenants/acme/apps', { name: 'blog' });
    // east has one node (a real node-manager on its etcd prefix); west has none.
    node = await startNodeManager(etcd, nodeId, { WHARF_ETCD_PREFIX: '/dc-east', WHARF_DATA_CENTER: `console-e2e-${process.pid}` }, 90_000);
    consoleServer = await startConsole(etcd, { WHARF_CONSOLE_ETCD_PREFIX: '/console-e2e' }, 90_000);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 400_000);
  afterAll(async () => {
    releaseBuilds();
    await browser?.close();
    for (const w of workers) await w.stop();
    await node?.stop();
    await consoleServer?.stop();
    await Promise.all([east?.stop(), west?.stop()]);
    await etcd?.destroy();
  });

  it('signs in: a wrong password is said next to the form, the right one opens the console', async () => {
    await page.goto(consoleServer.url);
    await page.fill('input[name=name]', 'admin');
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-error-for=form]');
    expect(await page.textContent('[data-error-for=form]')).toBe('wrong user name or password');
    await shot('01-sign-in-refused');
    await page.fill('input[name=password]', consoleServer.firstUser!.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=user]');
    expect(await page.textContent('[data-testid=user]')).toBe('admin');
    // The session cookie is httpOnly: page scripts cannot read it.
    expect(await page.evaluate('document.cookie')).toBe(''); // a string: this file is type-checked without the DOM
  });

  it('adds two data centers through the form; bad input is shown next to its field', async () => {
    await page.goto(`${consoleServer.url}/#/dcs`);
    await page.fill('input[name=dc-name]', 'east');
    await page.fill('input[name=dc-url]', 'ftp://nowhere');
    await page.fill('input[name=dc-token]', east.adminToken);
    await page.click('[data-testid=add-dc] button[type=submit]');
    await page.waitForSelector('[data-error-for=api_url]');
    expect(await page.textContent('[data-error-for=api_url]')).toMatch(/http\(s\)/);
    await shot('02-data-center-bad-url');
    for (const dc of [east, west]) {
      await page.fill('input[name=dc-name]', dc.name);
      await page.fill('input[name=dc-url]', dc.url);
      await page.fill('input[name=dc-token]', dc.adminToken);
      await page.click('[data-testid=add-dc] button[type=submit]');
      await page.waitForSelector(`tr[data-dc=${dc.name}][data-status=ok]`);
    }
    await shot('03-data-centers');
  });

  it('lists apps across both data centers', async () => {
    await page.goto(`${consoleServer.url}/#/apps`);
    await page.waitForSelector('[data-app="east/acme.blog"]');
    expect(await page.getAttribute('[data-dc=east]', 'data-status')).toBe('ok');
    expect(await page.getAttribute('[data-dc=west]', 'data-status')).toBe('ok');
    await shot('04-apps');
  });

  it('creates a component from an image in both at once and watches each timeline live to its final status', async () => {
    await page.goto(`${consoleServer.url}/#/create`);
    await page.waitForSelector('input[name=dc-east]');
    // Bad input first: the field says why, nothing is created.
    await page.check('input[name=dc-east]');
    await page.check('input[name=dc-west]');
    await page.fill('input[name=tenant]', 'acme');
    await page.fill('input[name=app]', 'shop');
    await page.fill('input[name=name]', 'Web!');
    await page.fill('input[name=image]', 'nginx:1.27');
    await page.click('[data-testid=create] button[type=submit]');
    await page.waitForSelector('[data-error-for=name]');
    expect(await page.textContent('[data-error-for=name]')).toMatch(/DNS-1123/);
    await shot('05-create-bad-name');
    await page.fill('input[name=name]', 'web');
    await page.fill('input[name=port]', '80');
    await page.click('[data-testid=create] button[type=submit]');
    await page.waitForSelector('[data-progress-dc=east][data-status=created]');
    await page.waitForSelector('[data-progress-dc=west][data-status=created]');
    // Live: lines appear while the build runs, before the final status. Locators and polls from
    // here, not waitForFunction with a string: the page's CSP (no 'unsafe-eval') refuses its polling.
    await page.locator('[data-progress-dc=east] [data-testid=last-line]', { hasText: /Step 10\/20/ }).waitFor();
    expect(await page.locator('[data-progress-dc=east] p.final').count()).toBe(0);
    releaseBuilds();
    await shot('06-create-progress-live');
    for (const dc of ['east', 'west']) await page.waitForSelector(`[data-progress-dc=${dc}] [data-final=success]`, { timeout: 30_000 });
    expect(await page.textContent('[data-progress-dc=east] .steps')).toMatch(/build.*rollout|replica-1/);
    await shot('07-create-done');
  });

  it('shows the component in both data centers and its operation with the step tree and the virtualized log', async () => {
    await page.goto(`${consoleServer.url}/#/components/shop`);
    await page.waitForSelector('[data-component="east/acme.shop.web"]');
    await page.waitForSelector('[data-component="west/acme.shop.web"]');
    await page.click('[data-component="west/acme.shop.web"] a');
    await page.waitForSelector('[data-testid=events] tr');
    await page.click('[data-testid=events] tr a');
    await page.waitForSelector('[data-final=success]');
    await waitFor('25 log lines shown', async () => (Number(await page.getAttribute('[data-lines]', 'data-lines')) >= 25 ? true : undefined), 30_000, 100);
    expect(await page.textContent('[data-testid=log-lines]')).toContain('Step 20/20 : RUN make');
    await page.fill('input[aria-label="search the log"]', 'step 7/20');
    await page.click('.log-bar button[type=submit]');
    await page.waitForSelector('[data-matches="1"]');
    await shot('08-operation');
  });

  it("edits a component's routes and certificates: bad input and another component's claim said next to the field, a certificate uploaded, the route changed keeping the stored key, then deleted", async () => {
    const pem = (name: string) => readFileSync(join(__dirname, '..', '..', 'libs', 'routing', 'src', '__fixtures__', name), 'utf8');
    const dc = (await dcId(consoleServer, 'east'))!;
    const componentPage = (c: string) => `${consoleServer.url}/#/c/${encodeURIComponent(dc)}/acme/${c}`;
    const stored = async (c: string) =>
      ((await api(east.url, east.adminToken, 'GET', `/api/v1/tenants/acme/components/${c}`)) as { routes: Record<string, unknown>[] }).routes;
    const form = '[data-testid=route-form]';
    const row = '[data-route="shop.example.com/"]';
    // A second component in east, to claim the same host and path.
    await api(east.url, east.adminToken, 'POST', '/api/v1/tenants/acme/apps/acme.blog/components', {
      name: 'api',
      source: { image: 'nginx:1.27' },
      ports: [{ port: 80, protocol: 'http', public: true }],
    });

    await page.goto(componentPage('acme.shop.web'));
    await page.click('[data-testid=routes] [data-action=add-route]');
    // Bad input: the console's own check, then the data center's (a host in its domain), each next to the host field.
    await page.fill(`${form} input[name=route-host]`, 'Bad Host!');
    await page.click(`${form} button[type=submit]`);
    await page.locator(`${form} [data-error-for=host]`, { hasText: /DNS host name/ }).waitFor();
    await page.fill(`${form} input[name=route-host]`, 'web.localhost');
    await page.click(`${form} button[type=submit]`);
    await page.locator(`${form} [data-error-for=host]`, { hasText: /in the data center's domain localhost/ }).waitFor();
    await page.fill(`${form} input[name=route-host]`, 'shop.example.com');
    expect(await page.inputValue(`${form} input[name=route-port]`)).toBe('80');
    await page.click(`${form} button[type=submit]`);
    await page.waitForSelector(`${row}[data-tls=no]`);
    expect(await stored('acme.shop.web')).toEqual([{ host: 'shop.example.com', path_prefix: '/', port: 80, https_redirect: false, tls: null }]);
    await shot('09-route-added');

    // Another component claiming the same host and path: the data center's 409 names the owner, next to the host; nothing is written.
    await page.goto(componentPage('acme.blog.api'));
    await page.click('[data-testid=routes] [data-action=add-route]');
    await page.fill(`${form} input[name=route-host]`, 'shop.example.com');
    await page.click(`${form} button[type=submit]`);
    const conflict = page.locator(`${form} [data-error-for=host]`, { hasText: 'already routed to component acme/shop/web' });
    await conflict.waitFor();
    expect(await conflict.textContent()).toBe('shop.example.com/ is already routed to component acme/shop/web (acme.shop.web)');
    expect(await stored('acme.blog.api')).toEqual([]);
    await shot('10-route-conflict');

    // A certificate: invalid PEM and a key of another certificate are refused next to their fields, then the right pair.
    await page.goto(componentPage('acme.shop.web'));
    await page.click(`${row} [data-action=certificate]`);
    const cert = '[data-testid=certificate-form]';
    await page.fill(`${cert} textarea[name=certificate_pem]`, 'not a certificate');
    await page.fill(`${cert} textarea[name=private_key_pem]`, pem('shop.key'));
    await page.click(`${cert} button[type=submit]`);
    await page.locator(`${cert} [data-error-for=certificate_pem]`, { hasText: /must be PEM/ }).waitFor();
    // PEM armour around garbage passes the console's look and is refused by the data center's parse.
    await page.fill(`${cert} textarea[name=certificate_pem]`, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    await page.click(`${cert} button[type=submit]`);
    await page.locator(`${cert} [data-error-for=certificate_pem]`, { hasText: 'the certificate does not parse' }).waitFor();
    await page.fill(`${cert} textarea[name=certificate_pem]`, pem('shop.crt'));
    await page.fill(`${cert} textarea[name=private_key_pem]`, pem('other.key'));
    await page.click(`${cert} button[type=submit]`);
    await page.locator(`${cert} [data-error-for=private_key_pem]`, { hasText: 'the private key does not belong to the certificate' }).waitFor();
    expect((await stored('acme.shop.web'))[0].tls).toBeNull();
    await page.fill(`${cert} textarea[name=private_key_pem]`, pem('shop.key'));
    await page.click(`${cert} button[type=submit]`);
    await page.waitForSelector(`${row}[data-tls=yes]`);
    expect(await page.textContent(`${row} [data-testid=certificate]`)).toBe('TLS: shop.example.com · until 2126-11-07');
    // The key is write-only: neither the console's API nor the page has it.
    expect(await page.content()).not.toContain('PRIVATE KEY');
    await shot('11-certificate-uploaded');

    // Change the route keeping the stored key: HTTPS redirect on, the certificate now with its chain (checked against the kept key).
    await page.click(`${row} [data-action=edit]`);
    expect(await page.isChecked(`${form} input[name=keep_key]`)).toBe(true);
    expect(await page.locator(`${form} textarea[name=private_key_pem]`).count()).toBe(0);
    await page.check(`${form} input[name=route-https-redirect]`);
    await page.fill(`${form} textarea[name=certificate_pem]`, pem('shop-chain.crt'));
    await page.click(`${form} button[type=submit]`);
    await page.locator(`${row} [data-testid=certificate]`, { hasText: 'HTTP redirected to HTTPS' }).waitFor();
    expect(await stored('acme.shop.web')).toEqual([
      { host: 'shop.example.com', path_prefix: '/', port: 80, https_redirect: true, tls: { certificate_pem: pem('shop-chain.crt') } },
    ]);
    await shot('12-route-edited-key-kept');

    // Delete (after the confirmation).
    page.once('dialog', (d) => void d.accept());
    await page.click(`${row} [data-action=delete]`);
    await page.locator('[data-testid=routes]', { hasText: 'No routes.' }).waitFor();
    expect(await stored('acme.shop.web')).toEqual([]);
  });

  it("lists each data center's nodes with their health; an administrator cordons one, uncordons it with a reason and labels it", async () => {
    await page.goto(`${consoleServer.url}/#/nodes`);
    const row = `tr[data-node="east/${nodeId}"]`;
    await page.waitForSelector(`${row}[data-state=READY]`, { timeout: 30_000 });
    expect(await page.getAttribute(`${row} [data-health]`, 'data-health')).toBe('ok');
    expect(await page.getAttribute('.dc-status [data-dc=west]', 'data-status')).toBe('ok');
    expect(await page.locator('tr[data-node^="west/"]').count()).toBe(0);
    await shot('13-nodes');
    await page.click(`${row} [data-action=cordon]`);
    await page.waitForSelector(`${row}[data-state=INITED]`);
    expect(await page.locator(`${row} [data-action]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-action')))).toEqual(['uncordon', 'offline']);
    await shot('14-node-cordoned');

    await page.click(`${row} a`);
    await page.waitForSelector('[data-testid=node][data-state=INITED]');
    expect(await page.getAttribute('[data-condition=runtime_reachable]', 'data-ok')).toBe('true');
    await page.fill('input[name=reason]', 'maintenance over');
    await page.click('[data-testid=node] [data-action=uncordon]');
    await page.waitForSelector('[data-testid=node][data-state=READY]');
    await page.locator('[data-testid=transitions]', { hasText: 'maintenance over' }).waitFor();
    // Labels: a malformed one is said next to the field and nothing is written; then a good one.
    await page.click('[data-testid=labels] button');
    await page.fill('textarea[name=labels]', 'zone=a\noops');
    await page.click('button:has-text("Save labels")');
    await page.waitForSelector('[data-error-for=labels]');
    expect(await page.textContent('[data-error-for=labels]')).toBe('"oops": expected key=value');
    await page.fill('textarea[name=labels]', 'zone=a\nBad Key=x');
    await page.click('button:has-text("Save labels")');
    await page.locator('[data-error-for=labels]', { hasText: /Bad Key/ }).waitFor();
    await page.fill('textarea[name=labels]', 'zone=a');
    await page.click('button:has-text("Save labels")');
    await page.locator('[data-testid=labels] code', { hasText: 'zone=a' }).waitFor();
    await shot('15-node-page');
    const seen = (await api(east.url, east.adminToken, 'GET', `/api/v1/nodes/${nodeId}`)) as { state: string; labels: Record<string, string> };
    expect({ state: seen.state, labels: seen.labels }).toEqual({ state: 'READY', labels: { zone: 'a' } });
  });

  it('shows a data center that stops answering as unreachable while the other still works', async () => {
    west.pause();
    try {
      await page.goto(`${consoleServer.url}/#/apps`);
      await page.waitForSelector('.dc-status [data-dc=west][data-status=unreachable]', { timeout: 10_000 });
      expect(await page.getAttribute('.dc-status [data-dc=east]', 'data-status')).toBe('ok');
      expect(await page.locator('[data-app^="east/"]').count()).toBe(2);
      expect(await page.locator('[data-app^="west/"]').count()).toBe(0);
      await shot('16-west-unreachable');
      // The other data center still takes changes through the console.
      await page.goto(`${consoleServer.url}/#/c/${encodeURIComponent((await dcId(consoleServer, 'east'))!)}/acme/acme.shop.web`);
      await page.fill('input[name=replicas]', '2');
      await page.click('form.inline button[type=submit]');
      await page.waitForSelector('.timeline');
      await shot('17-east-still-works');
    } finally {
      west.resume();
    }
  });

  async function dcId(c: RunningConsole, name: string): Promise<string | undefined> {
    const cookies = await page.context().cookies();
    const cookie = cookies.find((k) => k.name === 'wharf_session')!;
    const res = await fetch(`${c.url}/api/v1/data-centers`, { headers: { cookie: `wharf_session=${cookie.value}` } });
    return ((await res.json()) as { items: { id: string; name: string }[] }).items.find((d) => d.name === name)?.id;
  }
});
