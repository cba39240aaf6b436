#!/usr/bin/env node
// CLI entry: the compiled TypeScript lives in dist/ (built by `npm ci` via the prepare script).
import('../dist/cli/main.js').then((m) => m.main(process.argv));
