// The CLI sessions shown in README.md and docs/oncrpc.1.md (```console blocks: `$ command` lines, each
// followed by what it prints, stdout and stderr together) print exactly that today.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

/** The sessions of a Markdown file: each `$ ` line with the lines after it up to the next one. */
function sessions(markdown: string): Array<{ command: string; output: string }> {
  const out: Array<{ command: string; output: string }> = [];
  for (const block of markdown.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    for (const line of block[1]!.split('\n')) {
      if (line.startsWith('$ ')) out.push({ command: line.slice(2), output: '' });
      else if (out.length && line !== '') out[out.length - 1]!.output += line + '\n';
      else if (line !== '') throw new Error(`output before any command: ${line}`);
    }
  }
  return out;
}

for (const doc of ['README.md', 'docs/oncrpc.1.md']) {
  t.test(`${doc}: CLI sessions`, async (t) => {
    const all = sessions(readFileSync(join(root, doc), 'utf8'));
    if (doc === 'README.md') t.ok(all.length >= 5, `${all.length} commands`);
    for (const { command, output } of all) {
      // `oncrpc` is this checkout's bin/oncrpc.js; pipes and redirections are the shell's.
      const script = `oncrpc() { "${process.execPath}" "${join(root, 'bin/oncrpc.js')}" "$@"; }\n${command}`;
      const r = spawnSync('bash', ['-c', `{ ${script}\n} 2>&1`], { cwd: root, encoding: 'utf8' });
      t.equal(r.stdout, output, command);
    }
  });
}
