// The type check and the type-aware ESLint of `npm run lint`, on one TypeScript program per
// tsconfig: `tsc -p` and `eslint` each built the same programs (and type-checked the same
// code) in a process of their own. Here the programs of tsconfig.typecheck.json and
// console/web/tsconfig.json are built once, type-checked (as `tsc -p` would report), then
// handed to ESLint (parserOptions.programs), whose type-aware rules find the checker's work
// done. Fails on any type error, lint error or warning (--max-warnings 0).
import { ESLint } from 'eslint';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIGS = ['tsconfig.typecheck.json', 'console/web/tsconfig.json'];

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };

function program(config) {
  const configPath = join(ROOT, config);
  const configErrors = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d),
  });
  if (!parsed) return { config, program: undefined, diagnostics: configErrors };
  const p = ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    projectReferences: parsed.projectReferences,
    configFileParsingDiagnostics: parsed.errors,
  });
  return { config, program: p, diagnostics: [...configErrors, ...ts.getPreEmitDiagnostics(p)] };
}

let failed = false;
const programs = [];
for (const config of CONFIGS) {
  const t0 = Date.now();
  const r = program(config);
  const errors = r.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (r.diagnostics.length) process.stdout.write(ts.formatDiagnosticsWithColorAndContext(r.diagnostics, formatHost));
  if (errors.length || !r.program) failed = true;
  if (r.program) programs.push(r.program);
  console.log(`type check ${config}: ${errors.length} error(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
if (failed) process.exit(1);

const t0 = Date.now();
const eslint = new ESLint({ cwd: ROOT, overrideConfig: { languageOptions: { parserOptions: { programs } } } });
const results = await eslint.lintFiles(['.']);
const text = await (await eslint.loadFormatter('stylish')).format(results);
if (text) process.stdout.write(text);
const errors = results.reduce((n, r) => n + r.errorCount + r.fatalErrorCount, 0);
const warnings = results.reduce((n, r) => n + r.warningCount, 0);
console.log(`eslint: ${results.length} file(s), ${errors} error(s), ${warnings} warning(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (errors || warnings) process.exit(1);
