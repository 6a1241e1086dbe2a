import { KeyLayout } from './index';

describe('KeyLayout', () => {
  it('pads versions so lexical order is numeric order', () => {
    const keys = new KeyLayout('/t1');
    const a = keys.es.event('component/x', 9);
    const b = keys.es.event('component/x', 10);
    expect(a < b).toBe(true);
    expect(a.startsWith(keys.es.streamPrefix('component/x'))).toBe(true);
    expect(keys.mq.ready('build', 5, 'id') < keys.mq.ready('build', 40, 'id')).toBe(true);
  });
  it('rejects a malformed root', () => {
    expect(() => new KeyLayout('wharf')).toThrow(/must look like \/name/);
    expect(() => new KeyLayout('/wharf/')).toThrow(/must look like/);
  });
});
