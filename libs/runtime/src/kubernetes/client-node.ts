/**
 * @kubernetes/client-node 1.x is an ES module; Wharf builds CommonJS. Node >= 20.19 loads an ES
 * module through require() (no top-level await in it), but jest's module system (its require, and
 * the createRequire of its `module`) does not: so the package is loaded with the require of Node's
 * own module builtin, which works the same in the service and in tests.
 * (2.x needs undici 8, i.e. Node 22: 1.4 is the newest that runs on the Node this project uses.)
 */
export type ClientNode = typeof import('@kubernetes/client-node');

let loaded: ClientNode | undefined;

export function clientNode(): ClientNode {
  const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
  loaded ??= nodeModule.createRequire(__filename)('@kubernetes/client-node') as ClientNode;
  return loaded;
}
