#!/usr/bin/env node
// The `wharf` command (npx wharf): committed and executable, since the built file appears only after npm links bins.
require('../dist/main.js').main(process.argv);
