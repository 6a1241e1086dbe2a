// The order the integration and e2e tiers hand their files to jest's workers: longest first, so
// no worker is left alone with a long file at the end of the run. jest already does this from
// its own cache of last durations, but that cache is keyed by absolute path and lives outside the
// repository: a clean clone (CI) has none, and jest then orders by file size, which put the two
// longest integration files (a few KB each) among the last. The durations known here
// (test/setup/test-durations.json, seconds by repository path) stand in where jest has none.
//
// Refresh the record from runs: `node test/setup/test-sequencer.js record OUT.json...` where
// each OUT.json is `jest ... --json --outputFile=OUT.json` (a file's latest value wins).
const Sequencer = require('@jest/test-sequencer').default;
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const RECORD = join(__dirname, 'test-durations.json');

function recorded() {
  try {
    return JSON.parse(readFileSync(RECORD, 'utf8')).seconds;
  } catch {
    return {};
  }
}

class LongestFirstSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.seconds = recorded();
  }

  /** jest's last duration of this file on this machine (ms), else the recorded one. */
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const s = this.seconds[relative(ROOT, test.path)];
    return s == null ? undefined : s * 1000;
  }
}

function record(outputs) {
  const seconds = recorded();
  for (const file of outputs) {
    const run = JSON.parse(readFileSync(file, 'utf8'));
    for (const r of run.testResults) {
      if (r.status !== 'passed' && r.status !== 'failed') continue;
      seconds[relative(ROOT, r.name)] = Math.round((r.endTime - r.startTime) / 1000);
    }
  }
  const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(RECORD, `${JSON.stringify({ about: 'wall seconds per test file, read by test/setup/test-sequencer.js', seconds: sorted }, null, 2)}\n`);
}

if (require.main === module) {
  const [command, ...files] = process.argv.slice(2);
  if (command !== 'record' || files.length === 0) {
    console.error('usage: node test/setup/test-sequencer.js record JEST_JSON_OUTPUT...');
    process.exit(2);
  }
  record(files);
}

module.exports = LongestFirstSequencer;
