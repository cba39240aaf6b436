// Tokens of the .x language (RFC 4506 §6.2 lexical notes, RFC 5531 §12) over preprocessed segments.

import type { Diagnostic, Pos } from './ast.js';
import type { Segment } from './preprocess.js';
import { Diagnostics } from './source.js';

/**
 * `ident` covers keywords too (the parser decides by context); `number` is an unsigned literal
 * (a leading '-' is its own `punct` token); `string` is a double-quoted literal (rpcgen's string
 * constants), `text` its contents with C escapes decoded; `passthrough` is a `%` line; the last
 * token is `eof`.
 */
export interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct' | 'passthrough' | 'eof';
  text: string;
  /** The literal's value (`number` tokens only; 0n otherwise). */
  value: bigint;
  pos: Pos;
}

const PUNCT = '{}()[]<>;,:=*-';
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** Splits preprocessed segments into tokens. Bad characters and malformed numbers become diagnostics. */
export function lex(segments: readonly Segment[], file: string): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const diags = new Diagnostics();
  const tokens: Token[] = [];
  let end: Pos = { file, line: 1, col: 1 };
  for (const seg of segments) {
    if (seg.kind === 'passthrough') {
      tokens.push({ kind: 'passthrough', text: seg.text, value: 0n, pos: seg.pos });
      end = { ...seg.pos, col: seg.pos.col + 1 + seg.text.length };
      continue;
    }
    const s = seg.text;
    const { file: f, line, col } = seg.pos;
    const at = (i: number): Pos => (seg.expanded ? seg.pos : { file: f, line, col: col + i });
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 12 || c === 11 || c === 13 || c === 10) {
        i++;
        continue;
      }
      const start = i;
      if (isIdentStart(c)) {
        i++;
        while (i < s.length && isIdentPart(s.charCodeAt(i))) i++;
        tokens.push({ kind: 'ident', text: s.slice(start, i), value: 0n, pos: at(start) });
      } else if (c >= 48 && c <= 57) {
        i++;
        while (i < s.length && isIdentPart(s.charCodeAt(i))) i++;
        const text = s.slice(start, i);
        const value = parseNumber(text);
        if (value === null) diags.error(at(start), `invalid number '${text}'`);
        tokens.push({ kind: 'number', text, value: value ?? 0n, pos: at(start) });
      } else if (c === 34) {
        let text = '';
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) {
            const e = s[i + 1]!;
            text += ESCAPES[e] ?? e;
            i += 2;
          } else text += s[i++];
        }
        if (i >= s.length) diags.error(at(start), 'unterminated string');
        else i++;
        tokens.push({ kind: 'string', text, value: 0n, pos: at(start) });
      } else if (PUNCT.includes(s[i]!)) {
        i++;
        tokens.push({ kind: 'punct', text: s[start]!, value: 0n, pos: at(start) });
      } else {
        const cp = s.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        i += ch.length;
        diags.error(at(start), `unexpected character ${cp < 32 || cp === 127 ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : `'${ch}'`}`);
      }
      end = seg.expanded ? seg.pos : { file: f, line, col: col + i };
    }
  }
  tokens.push({ kind: 'eof', text: '', value: 0n, pos: end });
  return { tokens, diagnostics: diags.list };
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/** Decimal, 0x hex or 0 octal (RFC 4506 §6.2); null when malformed. */
export function parseNumber(text: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]*$/.test(text)) return text.length === 1 ? 0n : BigInt('0o' + text.slice(1));
  if (/^[1-9][0-9]*$/.test(text)) return BigInt(text);
  return null;
}
