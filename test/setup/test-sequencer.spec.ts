import { join } from 'node:path';

// The order the integration and e2e tiers start their files in, on a clone without jest's cache.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require('./test-sequencer') as new (options: object) => { sort(tests: FakeTest[]): FakeTest[] };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const record = require('./test-durations.json') as { seconds: Record<string, number> };

interface FakeTest {
  path: string;
  context: { config: { cache: boolean }; hasteFS: { getSize(path: string): number } };
}

const ROOT = join(__dirname, '..', '..');
const test = (rel: string): FakeTest => ({ path: join(ROOT, rel), context: { config: { cache: false }, hasteFS: { getSize: () => 1 } } });

describe('test sequencer', () => {
  it('starts the longest recorded files first when jest has no durations of its own', () => {
    const known = Object.keys(record.seconds).filter((f) => f.endsWith('.integration-spec.ts'));
    expect(known.length).toBeGreaterThan(10);
    const sorted = new Sequencer({}).sort(known.map(test)).map((t) => record.seconds[t.path.slice(ROOT.length + 1)]);
    expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
    expect(sorted[0]).toBe(Math.max(...known.map((f) => record.seconds[f])));
  });

  it('puts a file without any recorded duration first (as jest does with new files)', () => {
    const [longest] = Object.entries(record.seconds).sort(([, a], [, b]) => b - a);
    const order = new Sequencer({}).sort([test(longest[0]), test('services/none/src/new.integration-spec.ts')]).map((t) => t.path.slice(ROOT.length + 1));
    expect(order).toEqual(['services/none/src/new.integration-spec.ts', longest[0]]);
  });
});
