import { buildTestImage, followProgress } from '@wharf/testing';
import type Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { pack } from 'tar-stream';

/**
 * Test images, built offline from this machine's own binaries (nothing can be pulled here).
 * The web image is Debian's nginx with its shared libraries in a scratch image: a keep-alive
 * HTTP server fast enough that the gateway, not the replica, is what a load test measures
 * (busybox httpd closes every connection and forks per request).
 */
export async function webImage(docker: Docker, tag: string, body: string): Promise<string> {
  if (!/^[A-Za-z0-9 ._:-]+$/.test(body)) throw new Error(`web image body ${JSON.stringify(body)}: keep it to plain characters`);
  const libs = execFileSync('ldd', ['/usr/sbin/nginx'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.match(/(\/\S+) \(0x/)?.[1])
    .filter((p): p is string => !!p);
  const conf = [
    'daemon off; master_process off; worker_processes 1; error_log stderr warn; pid /tmp/nginx.pid;',
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off; keepalive_requests 1000000; keepalive_timeout 75s;',
    '  client_body_temp_path /tmp/cb; proxy_temp_path /tmp/p; fastcgi_temp_path /tmp/f; uwsgi_temp_path /tmp/u; scgi_temp_path /tmp/s;',
    '  server {',
    '    listen 8080;',
    `    location / { default_type text/plain; return 200 "${body} host=$host xff=$http_x_forwarded_for proto=$http_x_forwarded_proto fhost=$http_x_forwarded_host\\n"; }`,
    '  }',
    '}',
  ].join('\n');
  const tar = pack();
  tar.entry({ name: 'Dockerfile' }, 'FROM scratch\nCOPY rootfs/ /\nEXPOSE 8080\nCMD ["/usr/sbin/nginx", "-p", "/tmp", "-c", "/etc/web.conf"]\n');
  tar.entry({ name: 'rootfs/usr/sbin/nginx', mode: 0o755 }, readFileSync('/usr/sbin/nginx'));
  for (const lib of libs) tar.entry({ name: `rootfs${lib}`, mode: 0o755 }, readFileSync(realpathSync(lib)));
  tar.entry({ name: 'rootfs/etc/web.conf' }, conf);
  tar.entry({ name: 'rootfs/etc/passwd' }, 'root:x:0:0:root:/:/bin/false\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  tar.entry({ name: 'rootfs/etc/group' }, 'root:x:0:\nnogroup:x:65534:\n');
  tar.entry({ name: 'rootfs/tmp/', type: 'directory', mode: 0o1777 });
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, version: '1' });
  await followProgress(docker, stream);
  return tag;
}

/** A TCP echo server on port 7000 (busybox nc, one process per connection). */
export function echoImage(docker: Docker, tag: string): Promise<string> {
  return buildTestImage(docker, tag, { cmd: ['nc', '-ll', '-p', '7000', '-e', 'cat'], expose: [7000] });
}
