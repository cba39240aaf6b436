// Tokens: identifiers, numbers (decimal, hex, octal), strings, punctuation, `%` lines, positions.
import t from 'tap';
import { lex, parseNumber } from '../../src/codegen/lexer.js';
import { preprocess } from '../../src/codegen/preprocess.js';
import { formatDiagnostic } from '../../src/codegen/ast.js';

function tokens(src: string) {
  return lex(preprocess(src, 'l.x').segments, 'l.x');
}

t.test('kinds, values, positions', async (t) => {
  const r = tokens('const X = 0x1F;\n  foo<010> *\t-7 "a\\"b\\n"\n%pass');
  t.same(r.diagnostics, []);
  t.same(
    r.tokens.map((k) => [k.kind, k.text, k.value, `${k.pos.line}:${k.pos.col}`]),
    [
      ['ident', 'const', 0n, '1:1'],
      ['ident', 'X', 0n, '1:7'],
      ['punct', '=', 0n, '1:9'],
      ['number', '0x1F', 31n, '1:11'],
      ['punct', ';', 0n, '1:15'],
      ['ident', 'foo', 0n, '2:3'],
      ['punct', '<', 0n, '2:6'],
      ['number', '010', 8n, '2:7'],
      ['punct', '>', 0n, '2:10'],
      ['punct', '*', 0n, '2:12'],
      ['punct', '-', 0n, '2:14'],
      ['number', '7', 7n, '2:15'],
      ['string', 'a"b\n', 0n, '2:17'],
      ['passthrough', 'pass', 0n, '3:1'],
      ['eof', '', 0n, '3:6'],
    ],
  );
});

t.test('every punctuation mark', async (t) => {
  const r = tokens('{}()[]<>;,:=*-');
  t.same(r.tokens.map((k) => k.text).join(''), '{}()[]<>;,:=*-');
  t.ok(r.tokens.slice(0, -1).every((k) => k.kind === 'punct'));
});

t.test('bad characters and numbers', async (t) => {
  const r = tokens('a @ 09 12ab 0x $\n"open');
  t.same(r.diagnostics.map(formatDiagnostic), [
    "l.x:1:3: error: unexpected character '@'",
    "l.x:1:5: error: invalid number '09'",
    "l.x:1:8: error: invalid number '12ab'",
    "l.x:1:13: error: invalid number '0x'",
    "l.x:1:16: error: unexpected character '$'",
    'l.x:2:1: error: unterminated string',
  ]);
  t.same(tokens('\u0001').diagnostics.map(formatDiagnostic), ['l.x:1:1: error: unexpected character U+0001']);
});

t.test('parseNumber', async (t) => {
  t.equal(parseNumber('0'), 0n);
  t.equal(parseNumber('4294967295'), 4294967295n);
  t.equal(parseNumber('0xffffffffffffffff'), 18446744073709551615n);
  t.equal(parseNumber('0777'), 511n);
  t.equal(parseNumber('08'), null);
  t.equal(parseNumber('1e3'), null);
});
