import { createServer } from 'node:net';

/** HOST:0 -> HOST:<a port free now>, so the address can be advertised before gRPC binds it. */
export async function freeGrpcAddress(address: string): Promise<string> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  if (address.slice(at + 1) !== '0') return address;
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, host.replace(/^\[|\]$/g, ''), () => {
      const a = server.address();
      server.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
  return `${host}:${port}`;
}
