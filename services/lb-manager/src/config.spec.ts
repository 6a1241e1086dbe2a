import { loadConfig } from '@wharf/config';
import { lbConfigShape } from './config';
import { settingsFrom } from './gateway';

describe('lb-manager config', () => {
  it('has working defaults', () => {
    const c = loadConfig(lbConfigShape, {});
    expect(settingsFrom(c)).toMatchObject({ domain: 'localhost', listenAddress: '127.0.0.1', httpPort: 32480, httpsPort: 32443, workerProcesses: 'auto' });
    expect(c.WHARF_HTTP_PORT).toBe(32410);
  });

  it.each([
    ['WHARF_LB_DOMAIN', 'Bad Domain;', /WHARF_LB_DOMAIN: must be a lowercase DNS name/],
    ['WHARF_LB_DOMAIN', '*.example.com', /WHARF_LB_DOMAIN/],
    ['WHARF_LB_LISTEN_ADDRESS', 'localhost', /WHARF_LB_LISTEN_ADDRESS: must be an IP address/],
    ['WHARF_LB_DATA_DIR', 'relative/dir', /WHARF_LB_DATA_DIR: must be an absolute path/],
    ['WHARF_LB_DATA_DIR', '/tmp/a b', /WHARF_LB_DATA_DIR/],
    ['WHARF_LB_WORKER_PROCESSES', 'many', /WHARF_LB_WORKER_PROCESSES: must be auto or 1-999/],
    ['WHARF_LB_HTTP_PORT', '70000', /WHARF_LB_HTTP_PORT/],
    ['WHARF_LB_HTTPS_PORT', '0', /WHARF_LB_HTTPS_PORT/],
  ])('refuses %s=%j naming it', (key, value, message) => {
    expect(() => loadConfig(lbConfigShape, { [key]: value })).toThrow(message);
  });
});
