import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, fields, loadConfig } from './index';

const shape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints(),
  WHARF_MQ_PORT: fields.port(7001),
  WHARF_DEBUG: fields.flag(false),
};

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const cfg = loadConfig(shape, { WHARF_ETCD_ENDPOINTS: 'http://127.0.0.1:2379, http://127.0.0.1:2479' });
    expect(cfg).toEqual({ WHARF_ETCD_ENDPOINTS: ['http://127.0.0.1:2379', 'http://127.0.0.1:2479'], WHARF_MQ_PORT: 7001, WHARF_DEBUG: false });
  });

  it('names every bad variable and what it expects', () => {
    try {
      loadConfig(shape, { WHARF_MQ_PORT: '70000', WHARF_DEBUG: 'yes' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      expect(msg).toMatch(/WHARF_ETCD_ENDPOINTS: .*missing.*comma-separated http/);
      expect(msg).toMatch(/WHARF_MQ_PORT: .*"70000".*0-65535/);
      expect(msg).toMatch(/WHARF_DEBUG: .*"yes".*true or false/);
    }
  });

  it('reads a config file that the environment overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-config-'));
    const file = join(dir, 'wharf.env');
    writeFileSync(file, '# etcd\nWHARF_ETCD_ENDPOINTS=http://127.0.0.1:1\nWHARF_MQ_PORT=9000\n');
    const cfg = loadConfig(shape, { WHARF_CONFIG_FILE: file, WHARF_MQ_PORT: '9001' });
    expect(cfg.WHARF_ETCD_ENDPOINTS).toEqual(['http://127.0.0.1:1']);
    expect(cfg.WHARF_MQ_PORT).toBe(9001);
    writeFileSync(file, 'not a pair\n');
    expect(() => loadConfig(shape, { WHARF_CONFIG_FILE: file })).toThrow(/wharf.env:1: expected KEY=VALUE/);
  });
});
