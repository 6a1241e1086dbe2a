// `node libs/pki/dist/cli.js ensure DIR [--hosts h1,h2]`: what `npm run up` runs to make the
// data center's CA once and a certificate per identity (see ensurePki).
import { ensurePki } from './pki-directory';

async function main(argv: string[]): Promise<number> {
  const [command, dir, ...rest] = argv;
  if (command !== 'ensure' || !dir) {
    process.stderr.write('usage: pki ensure DIR [--hosts HOST,IP,...]\n');
    return 2;
  }
  let hosts: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--hosts' && rest[i + 1] !== undefined) hosts = rest[++i].split(',').filter(Boolean);
    else {
      process.stderr.write(`pki: unknown argument ${JSON.stringify(rest[i])}\n`);
      return 2;
    }
  }
  const result = await ensurePki(dir, { hosts });
  if (result.createdCa) process.stdout.write(`pki: created the data-center CA in ${result.caFile}\n`);
  if (result.issued.length) process.stdout.write(`pki: issued certificates for ${result.issued.join(', ')}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`pki: ${err.message}\n`);
    process.exit(1);
  },
);
