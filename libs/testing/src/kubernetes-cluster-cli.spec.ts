import { parseArgs } from './kubernetes-cluster-cli';

describe('kubernetes-cluster-cli parseArgs', () => {
  it('reads start with its state dir and registries, and cleanup', () => {
    expect(parseArgs(['start', '--state', '/s', '--registry', '127.0.0.1:5000', '--registry', 'localhost:5001'])).toEqual({
      command: 'start',
      state: '/s',
      registries: ['127.0.0.1:5000', 'localhost:5001'],
    });
    expect(parseArgs(['cleanup', '--state', '/s'])).toEqual({ command: 'cleanup', state: '/s', registries: [] });
  });

  it('refuses an unknown command, an unknown or incomplete argument and a missing state dir', () => {
    expect(() => parseArgs([])).toThrow(/usage: kubernetes-cluster-cli start\|cleanup/);
    expect(() => parseArgs(['stop', '--state', '/s'])).toThrow(/got "stop"/);
    expect(() => parseArgs(['start', '--state'])).toThrow(/incomplete argument "--state"/);
    expect(() => parseArgs(['start', '--state', '/s', '--nodes', '2'])).toThrow(/unknown or incomplete argument "--nodes"/);
    expect(() => parseArgs(['start'])).toThrow(/--state DIR is required/);
  });
});
