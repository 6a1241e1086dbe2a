import { connect } from 'node:net';

/** Writes raw bytes to an HTTP port and reads until the server closes: what a broken or hostile client sees. */
export function rawHttp(port: number, bytes: string, host = '127.0.0.1'): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    let text = '';
    let reset = false;
    s.on('data', (d) => (text += d.toString()));
    s.on('error', (err: NodeJS.ErrnoException) => (reset ||= err.code === 'ECONNRESET'));
    s.on('close', () => resolve({ text, reset }));
    s.on('connect', () => s.write(bytes));
  });
}
