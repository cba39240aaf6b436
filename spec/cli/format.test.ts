// src/cli/format.ts: the text every subcommand shares, the byte-count option parser, the error line.
import t from 'tap';
import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { CliInputError, CompileError, PcapError } from '../../src/errors.js';
import { commandName, endpointText, errorText, hex32, parseByteCount, progLabel, systemErrorText } from '../../src/cli/format.js';

t.test('parseByteCount: positive whole numbers only', async (t) => {
  t.equal(parseByteCount('1'), 1);
  t.equal(parseByteCount('16777216'), 16777216);
  t.equal(parseByteCount('007'), 7);
  for (const bad of ['abc', '1e3', '-5', '0', '', ' 5', '5 ', '1.5', '0x10', '12k', '+3', '99999999999999999999']) {
    t.throws(() => parseByteCount(bad), InvalidArgumentError, JSON.stringify(bad));
  }
});

t.test('errorText: system errors as plain text, oncrpc errors with their code', async (t) => {
  const enoent = await readFile('/nonexistent/file.pcap').catch((e: unknown) => e);
  t.equal(systemErrorText(enoent), 'no such file or directory');
  t.equal(errorText(enoent), 'no such file or directory', 'no ENOENT prefix, no path');
  const eisdir = await readFile('/').catch((e: unknown) => e);
  t.equal(errorText(eisdir), 'illegal operation on a directory');
  t.equal(systemErrorText(new Error('plain')), undefined);
  t.equal(errorText(new PcapError('not a pcap or pcapng file', 0)), 'ERR_PCAP_FORMAT: not a pcap or pcapng file (at file offset 0)');
  t.equal(errorText(new CliInputError('not hex')), 'ERR_CLI_INPUT: not hex');
  const ce = new CompileError([
    { severity: 'error', message: 'a', pos: { file: 'f.x', line: 1, col: 2 } },
    { severity: 'warning', message: 'b', pos: { file: 'f.x', line: 3, col: 4 } },
    { severity: 'error', message: 'c', pos: { file: 'f.x', line: 5, col: 6 } },
  ]);
  t.equal(errorText(ce), '2 errors', 'one line: the diagnostics are printed apart');
  t.equal(errorText('x'), 'x');
});

t.test('labels', async (t) => {
  t.equal(progLabel(100000, 4, 3), 'portmapper(100000) v4 GETADDR(3)');
  t.equal(progLabel(541089920, 1, 2), '541089920 v1 proc 2');
  t.equal(progLabel(541089920, 1, 2, { program: 'ALLTYPES_PROG', procedure: 'AT_BIGARG' }), 'ALLTYPES_PROG(541089920) v1 AT_BIGARG(2)');
  t.equal(progLabel(541089920, 1, 99, { program: 'ALLTYPES_PROG' }), 'ALLTYPES_PROG(541089920) v1 proc 99');
  t.equal(progLabel(100000, 2, 4, { program: 'PMAP_PROG', procedure: 'PMAPPROC_DUMP' }), 'portmapper(100000) v2 DUMP(4)', 'well-known names first');
  t.equal(endpointText({ addr: '::1', port: 111 }), '[::1]:111');
  t.equal(endpointText({ addr: '10.0.0.1', port: 2049 }), '10.0.0.1:2049');
  t.equal(hex32(0xdeadbeef), '0xdeadbeef');
  t.equal(hex32(1), '0x00000001');
});

t.test('commandName: the path below the root', async (t) => {
  const root = new Command('oncrpc');
  const xdr = new Command('xdr');
  const enc = new Command('encode');
  xdr.addCommand(enc);
  root.addCommand(xdr);
  t.equal(commandName(root), '');
  t.equal(commandName(xdr), 'xdr');
  t.equal(commandName(enc), 'xdr encode');
});
