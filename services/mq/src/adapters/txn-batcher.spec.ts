import type { Etcd3, ITxnRequest } from 'etcd3';
import { TxnBatcher } from './txn-batcher';

// A fake etcd txn: a compare "fails" when its key is in `taken`; records every txn sent.
function fakeClient(taken: Set<string>) {
  const sent: ITxnRequest[] = [];
  const client = {
    kv: {
      txn: async (req: ITxnRequest) => {
        sent.push(req);
        const keys = (req.success ?? []).map((op) => op.request_put!.key!.toString());
        if (new Set(keys).size !== keys.length) throw new Error('etcdserver: duplicate key given in txn request');
        return { succeeded: (req.compare ?? []).every((c) => !taken.has(c.key!.toString())) };
      },
    },
  };
  return { client: client as unknown as Etcd3, sent };
}

const write = (key: string) =>
  [
    [{ key: Buffer.from(key), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }],
    [{ request_put: { key: Buffer.from(key), value: Buffer.from('v') } }],
  ] as const;

describe('TxnBatcher', () => {
  it('sends writes of one tick as one transaction', async () => {
    const { client, sent } = fakeClient(new Set());
    const batcher = new TxnBatcher(client);
    const results = await Promise.all(['a', 'b', 'c'].map((k) => batcher.submit(...(write(k).map((x) => [...x]) as [never, never]))));
    expect(results).toEqual([true, true, true]);
    expect(sent).toHaveLength(1);
  });

  it('gives each caller its own answer when one guard fails', async () => {
    const { client, sent } = fakeClient(new Set(['b']));
    const batcher = new TxnBatcher(client);
    const results = await Promise.all(['a', 'b', 'c'].map((k) => batcher.submit(...(write(k).map((x) => [...x]) as [never, never]))));
    expect(results).toEqual([true, false, true]);
    expect(sent).toHaveLength(4); // the combined one, then each alone
  });

  it('never puts one key twice into a transaction', async () => {
    const { client, sent } = fakeClient(new Set());
    const batcher = new TxnBatcher(client);
    const results = await Promise.all(['a', 'a', 'b'].map((k) => batcher.submit(...(write(k).map((x) => [...x]) as [never, never]))));
    expect(results).toEqual([true, true, true]);
    expect(sent.map((t) => t.success!.length)).toEqual([1, 2]);
  });

  it('holds writes while two transactions are in flight and sends them together next (group commit)', async () => {
    const sent: ITxnRequest[] = [];
    const answers: (() => void)[] = [];
    const client = {
      kv: {
        txn: (req: ITxnRequest) =>
          new Promise((resolve) => {
            sent.push(req);
            answers.push(() => resolve({ succeeded: true }));
          }),
      },
    } as unknown as Etcd3;
    const batcher = new TxnBatcher(client);
    const tick = () => new Promise((r) => setImmediate(r));
    const submit = (k: string) => batcher.submit(...(write(k).map((x) => [...x]) as [never, never]));
    const results = [submit('a')];
    await tick();
    results.push(submit('b'));
    await tick();
    results.push(submit('c'), submit('d'));
    await tick();
    expect(sent.map((t) => t.success!.length)).toEqual([1, 1]); // c and d wait
    answers[0]();
    await tick();
    expect(sent.map((t) => t.success!.length)).toEqual([1, 1, 2]);
    answers.slice(1).forEach((answer) => answer());
    expect(await Promise.all(results)).toEqual([true, true, true, true]);
  });
});
