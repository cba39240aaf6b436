// Recursive-descent parser for the rpcgen language: RFC 4506 §6.3 (XDR), RFC 5531 §12 (programs),
// and rpcgen's extensions (several procedure arguments, bare `string`, char/short/long, enum
// members without values, `%` lines). Syntax errors become diagnostics; the parser then skips to
// the end of the definition and goes on, so one run reports several errors.

import type {
  Declaration,
  Definition,
  Diagnostic,
  EnumBody,
  Pos,
  Procedure,
  Specification,
  StructBody,
  TypeSpec,
  UnionBody,
  UnionCase,
  Value,
  Version,
} from './ast.js';
import type { Token } from './lexer.js';
import { Diagnostics } from './source.js';

/** Words that cannot be names (RFC 4506 §6.4, RFC 5531 §12.2, and rpcgen's C integer types). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'bool', 'case', 'const', 'default', 'double', 'quadruple', 'enum', 'float', 'hyper', 'int', 'opaque',
  'string', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'program', 'version',
  'char', 'short', 'long',
]);

/**
 * Enum members written without `= value` (rpcgen allows them, C numbering): the parser gives them
 * a literal; when the previous member's value is a name, the literal is provisional and `resolve`
 * sets it to that member's value + 1. Maps the provisional literal to the previous member's value.
 */
export const implicitEnumValues = new WeakMap<Value, Value>();

const DEFINITION_WORDS: ReadonlySet<string> = new Set(['const', 'typedef', 'enum', 'struct', 'union', 'program']);

/** Inline types nested deeper than this are refused (keeps the recursion bounded). */
const MAX_NESTING = 100;

class SyntaxAbort extends Error {}

type DeclContext = 'field' | 'typedef' | 'arm' | 'discriminant';

/** Parses the tokens of one preprocessed file. Never throws on bad input. */
export function parse(tokens: readonly Token[], file: string): { spec: Specification; diagnostics: Diagnostic[] } {
  const p = new Parser(tokens);
  const definitions = p.specification();
  return { spec: { file, definitions }, diagnostics: p.diags.list };
}

class Parser {
  readonly diags = new Diagnostics();
  readonly #toks: readonly Token[];
  #i = 0;
  #depth = 0;
  #nesting = 0;
  #pending: Definition[] = [];

  constructor(tokens: readonly Token[]) {
    this.#toks = tokens.length > 0 && tokens[tokens.length - 1]!.kind === 'eof'
      ? tokens
      : [...tokens, { kind: 'eof', text: '', value: 0n, pos: { file: '', line: 1, col: 1 } }];
  }

  /** The current token; `%` lines met on the way are set aside as definitions. */
  get #cur(): Token {
    let t = this.#toks[this.#i]!;
    while (t.kind === 'passthrough') {
      this.#pending.push({ kind: 'passthrough', text: t.text, pos: t.pos });
      t = this.#toks[++this.#i]!;
    }
    return t;
  }

  #next(): Token {
    const t = this.#cur;
    if (t.kind !== 'eof') this.#i++;
    if (t.kind === 'punct') {
      if (t.text === '{') this.#depth++;
      else if (t.text === '}' && this.#depth > 0) this.#depth--;
    }
    return t;
  }

  #isPunct(p: string): boolean {
    const t = this.#cur;
    return t.kind === 'punct' && t.text === p;
  }

  #isKw(k: string): boolean {
    const t = this.#cur;
    return t.kind === 'ident' && t.text === k;
  }

  #eatPunct(p: string): boolean {
    if (!this.#isPunct(p)) return false;
    this.#next();
    return true;
  }

  #fail(pos: Pos, message: string): never {
    this.diags.error(pos, message);
    throw new SyntaxAbort();
  }

  #expected(what: string): never {
    const t = this.#cur;
    return this.#fail(t.pos, `expected ${what} but found ${describe(t)}`);
  }

  #expectPunct(p: string): Token {
    if (!this.#isPunct(p)) {
      const prev = this.#toks[this.#i - 1];
      const t = this.#cur;
      // A missing ';' at the end of a line is reported where it belongs, after the previous token.
      if (p === ';' && prev && prev.kind !== 'passthrough' && prev.pos.file === t.pos.file && prev.pos.line < t.pos.line)
        this.#fail({ ...prev.pos, col: prev.pos.col + tokenWidth(prev) }, `expected ';' after ${describe(prev)}`);
      this.#expected(`'${p}'`);
    }
    return this.#next();
  }

  #name(what = 'a name'): Token {
    const t = this.#cur;
    if (t.kind === 'ident' && !KEYWORDS.has(t.text)) return this.#next();
    if (t.kind === 'ident') this.#fail(t.pos, `expected ${what} but found keyword '${t.text}'`);
    return this.#expected(what);
  }

  specification(): Definition[] {
    const defs: Definition[] = [];
    for (;;) {
      const t = this.#cur;
      defs.push(...this.#pending);
      this.#pending = [];
      if (t.kind === 'eof') break;
      const start = this.#i;
      try {
        defs.push(this.#definition());
      } catch (e) {
        if (!(e instanceof SyntaxAbort)) throw e;
        this.#recover(start);
      }
      this.#nesting = 0;
    }
    return defs;
  }

  /** Skips to just after the next top-level `;`, or to the next word that can only start a definition. */
  #recover(start: number): void {
    const at = this.#cur;
    if (this.#i > start && this.#depth === 0 && at.kind === 'ident' && DEFINITION_WORDS.has(at.text)) return; // `const A = 1` + newline + `struct …`
    if (this.#i === start && this.#cur.kind !== 'eof') this.#next();
    for (;;) {
      const t = this.#cur;
      if (t.kind === 'eof') return;
      if (this.#depth === 0) {
        if (t.kind === 'punct' && t.text === ';') {
          this.#next();
          this.#depth = 0;
          return;
        }
        if (t.kind === 'ident' && (t.text === 'const' || t.text === 'typedef' || t.text === 'program')) return;
        if (t.kind === 'ident' && (t.text === 'struct' || t.text === 'union' || t.text === 'enum')) {
          const prev = this.#toks[this.#i - 1];
          if (prev && prev.kind === 'punct' && (prev.text === ';' || prev.text === '}')) return;
        }
      }
      this.#next();
    }
  }

  #definition(): Definition {
    const t = this.#cur;
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'const': {
          this.#next();
          const name = this.#name('a constant name');
          this.#expectPunct('=');
          const str = this.#cur;
          if (str.kind === 'string') {
            this.#next();
            this.#expectPunct(';');
            return { kind: 'stringConst', name: name.text, value: str.text, pos: name.pos };
          }
          const value = this.#value();
          this.#expectPunct(';');
          return { kind: 'const', name: name.text, value, pos: name.pos };
        }
        case 'typedef': {
          this.#next();
          const decl = this.#declaration('typedef');
          this.#expectPunct(';');
          return { kind: 'typedef', decl, pos: decl.pos };
        }
        case 'enum': {
          this.#next();
          const name = this.#name('an enum name');
          const body = this.#enumBody();
          this.#expectPunct(';');
          return { kind: 'enum', name: name.text, body, pos: name.pos };
        }
        case 'struct': {
          this.#next();
          const name = this.#name('a struct name');
          const body = this.#structBody();
          this.#expectPunct(';');
          return { kind: 'struct', name: name.text, body, pos: name.pos };
        }
        case 'union': {
          this.#next();
          const name = this.#name('a union name');
          const body = this.#unionBody();
          this.#expectPunct(';');
          return { kind: 'union', name: name.text, body, pos: name.pos };
        }
        case 'program':
          return this.#program();
      }
    }
    return this.#fail(t.pos, `expected a definition (const, typedef, enum, struct, union or program) but found ${describe(t)}`);
  }

  /** A constant: a number, `-` number, or a name (RFC 4506 §6.3 constant / value). */
  #value(): Value {
    const t = this.#cur;
    if (t.kind === 'punct' && t.text === '-') {
      this.#next();
      const n = this.#cur;
      if (n.kind !== 'number') this.#expected("a number after '-'");
      this.#next();
      return { kind: 'literal', value: -n.value, pos: t.pos };
    }
    if (t.kind === 'number') {
      this.#next();
      return { kind: 'literal', value: t.value, pos: t.pos };
    }
    if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
      this.#next();
      return { kind: 'name', name: t.text, pos: t.pos };
    }
    return this.#expected('a constant (a number or a name)');
  }

  #enter(pos: Pos): void {
    if (++this.#nesting > MAX_NESTING) this.#fail(pos, `types nested more than ${MAX_NESTING} deep`);
  }

  /** A type specifier; `void` is returned as `{ kind: 'void' }` (callers decide whether it may appear). */
  #typeSpec(): TypeSpec {
    const t = this.#cur;
    const pos = t.pos;
    if (t.kind !== 'ident') return this.#expected('a type');
    switch (t.text) {
      case 'unsigned': {
        this.#next();
        const n = this.#cur;
        if (n.kind === 'ident') {
          if (n.text === 'int') {
            this.#next();
            return { kind: 'int', unsigned: true, pos };
          }
          if (n.text === 'hyper') {
            this.#next();
            return { kind: 'hyper', unsigned: true, pos };
          }
          if (n.text === 'char' || n.text === 'short' || n.text === 'long') {
            this.#next();
            if (n.text !== 'char' && this.#isKw('int')) this.#next();
            return { kind: 'int', unsigned: true, pos };
          }
        }
        return { kind: 'int', unsigned: true, pos }; // bare `unsigned` (RFC 4506 §6.3: unsigned int)
      }
      case 'int':
        this.#next();
        return { kind: 'int', unsigned: false, pos };
      case 'char':
      case 'short':
      case 'long':
        // rpcgen maps these to xdr_char/xdr_short/xdr_long: 4 bytes on the wire, like int.
        this.#next();
        if (t.text !== 'char' && this.#isKw('int')) this.#next();
        return { kind: 'int', unsigned: false, pos };
      case 'hyper':
        this.#next();
        return { kind: 'hyper', unsigned: false, pos };
      case 'float':
      case 'double':
      case 'quadruple':
      case 'bool':
      case 'void':
        this.#next();
        return { kind: t.text as 'float' | 'double' | 'quadruple' | 'bool' | 'void', pos };
      case 'enum':
      case 'struct':
      case 'union': {
        this.#next();
        if (this.#isPunct('{') || this.#isKw('switch')) {
          this.#enter(pos);
          let spec: TypeSpec;
          if (t.text === 'enum') spec = { kind: 'enum', body: this.#enumBody(), pos };
          else if (t.text === 'struct') spec = { kind: 'struct', body: this.#structBody(), pos };
          else spec = { kind: 'union', body: this.#unionBody(), pos };
          this.#nesting--;
          return spec;
        }
        const name = this.#name(`a ${t.text} name or '${t.text === 'union' ? 'switch' : '{'}'`);
        if (this.#isPunct('{') || this.#isKw('switch'))
          this.#fail(name.pos, `a named ${t.text} cannot be defined inside another definition; define '${name.text}' at top level or leave it anonymous`);
        return { kind: 'ref', name: name.text, pos: name.pos };
      }
    }
    if (KEYWORDS.has(t.text)) this.#fail(t.pos, `expected a type but found keyword '${t.text}'`);
    this.#next();
    return { kind: 'ref', name: t.text, pos };
  }

  /** A named declaration (RFC 4506 §6.3 declaration); its `pos` is the name's (or `void`'s). */
  #declaration(ctx: DeclContext): Declaration {
    const t = this.#cur;
    const pos = t.pos;
    if (t.kind === 'ident' && t.text === 'void') {
      const n = this.#toks[this.#i + 1];
      if (!n || !(n.kind === 'ident' || (n.kind === 'punct' && n.text === '*'))) {
        this.#next();
        return { kind: 'void', pos };
      }
    }
    if (t.kind === 'ident' && t.text === 'opaque') {
      this.#next();
      const name = this.#name('the opaque field name');
      if (this.#eatPunct('[')) {
        const size = this.#value();
        this.#expectPunct(']');
        return { kind: 'fixedOpaque', name: name.text, size, pos: name.pos };
      }
      if (this.#eatPunct('<')) {
        const max = this.#isPunct('>') ? null : this.#value();
        this.#expectPunct('>');
        return { kind: 'varOpaque', name: name.text, max, pos: name.pos };
      }
      return this.#expected(`'[' or '<' after 'opaque ${name.text}'`);
    }
    if (t.kind === 'ident' && t.text === 'string') {
      this.#next();
      const name = this.#name('the string field name');
      if (this.#eatPunct('<')) {
        const max = this.#isPunct('>') ? null : this.#value();
        this.#expectPunct('>');
        return { kind: 'string', name: name.text, max, pos: name.pos };
      }
      return this.#expected(`'<' after 'string ${name.text}' (write string ${name.text}<> or string ${name.text}<N>)`);
    }
    const type = this.#typeSpec();
    if (this.#eatPunct('*')) {
      const name = this.#name();
      return { kind: 'optional', name: name.text, type, pos: name.pos };
    }
    const name = this.#name(ctx === 'discriminant' ? 'the discriminant name' : ctx === 'typedef' ? 'the type name' : 'a field name');
    if (this.#eatPunct('[')) {
      const size = this.#value();
      this.#expectPunct(']');
      return { kind: 'fixedArray', name: name.text, type, size, pos: name.pos };
    }
    if (this.#eatPunct('<')) {
      const max = this.#isPunct('>') ? null : this.#value();
      this.#expectPunct('>');
      return { kind: 'varArray', name: name.text, type, max, pos: name.pos };
    }
    return { kind: 'plain', name: name.text, type, pos: name.pos };
  }

  /**
   * A procedure argument or result (RFC 5531 §12 type-specifier, plus rpcgen's bare `string`,
   * `opaque<>`, `T *` and optional argument names).
   */
  #procDeclaration(isArg: boolean): Declaration {
    const t = this.#cur;
    const pos = t.pos;
    if (t.kind === 'ident' && t.text === 'void') {
      const n = this.#toks[this.#i + 1];
      if (!n || !(n.kind === 'punct' && n.text === '*')) {
        this.#next();
        return { kind: 'void', pos };
      }
    }
    const optName = (): string => {
      const n = this.#cur;
      if (isArg && n.kind === 'ident' && !KEYWORDS.has(n.text)) return this.#next().text;
      return '';
    };
    if (t.kind === 'ident' && (t.text === 'string' || t.text === 'opaque')) {
      this.#next();
      const name = optName();
      if (this.#eatPunct('<')) {
        const max = this.#isPunct('>') ? null : this.#value();
        this.#expectPunct('>');
        return t.text === 'string' ? { kind: 'string', name, max, pos } : { kind: 'varOpaque', name, max, pos };
      }
      if (t.text === 'opaque' && this.#eatPunct('[')) {
        const size = this.#value();
        this.#expectPunct(']');
        return { kind: 'fixedOpaque', name, size, pos };
      }
      if (t.text === 'string') return { kind: 'string', name, max: null, pos };
      return this.#expected("'<' or '[' after 'opaque'");
    }
    const type = this.#typeSpec();
    if (this.#eatPunct('*')) return { kind: 'optional', name: optName(), type, pos };
    const name = optName();
    if (this.#eatPunct('[')) {
      const size = this.#value();
      this.#expectPunct(']');
      return { kind: 'fixedArray', name, type, size, pos };
    }
    if (this.#eatPunct('<')) {
      const max = this.#isPunct('>') ? null : this.#value();
      this.#expectPunct('>');
      return { kind: 'varArray', name, type, max, pos };
    }
    return { kind: 'plain', name, type, pos };
  }

  #enumBody(): EnumBody {
    this.#expectPunct('{');
    const members: EnumBody['members'] = [];
    let prev: Value | null = null;
    do {
      if (this.#isPunct('}') && members.length > 0) break; // trailing comma
      const name = this.#name('an enum member name');
      let value: Value;
      if (this.#eatPunct('=')) value = this.#value();
      else if (prev === null) value = { kind: 'literal', value: 0n, pos: name.pos };
      else if (prev.kind === 'literal' && !implicitEnumValues.has(prev)) value = { kind: 'literal', value: prev.value + 1n, pos: name.pos };
      else {
        value = { kind: 'literal', value: 0n, pos: name.pos };
        implicitEnumValues.set(value, prev);
      }
      members.push({ name: name.text, value, pos: name.pos });
      prev = value;
    } while (this.#eatPunct(','));
    this.#expectPunct('}');
    return { members };
  }

  #structBody(): StructBody {
    const open = this.#expectPunct('{');
    const fields: Declaration[] = [];
    while (!this.#isPunct('}')) {
      if (this.#cur.kind === 'eof') this.#expected("'}'");
      fields.push(this.#declaration('field'));
      this.#expectPunct(';');
    }
    if (fields.length === 0) this.diags.error(open.pos, 'a struct needs at least one field');
    this.#next();
    return { fields };
  }

  #unionBody(): UnionBody {
    if (!this.#isKw('switch')) this.#expected("'switch'");
    this.#next();
    this.#expectPunct('(');
    const discriminant = this.#declaration('discriminant');
    this.#expectPunct(')');
    const open = this.#expectPunct('{');
    const cases: UnionCase[] = [];
    let dflt: Declaration | undefined;
    for (;;) {
      const t = this.#cur;
      if (t.kind === 'ident' && t.text === 'case') {
        const values: Value[] = [];
        while (this.#isKw('case')) {
          this.#next();
          values.push(this.#value());
          this.#expectPunct(':');
        }
        if (this.#isKw('default')) this.#fail(this.#cur.pos, "'default' cannot share an arm with 'case' labels");
        const arm = this.#declaration('arm');
        this.#expectPunct(';');
        cases.push({ values, arm, pos: t.pos });
      } else if (t.kind === 'ident' && t.text === 'default') {
        this.#next();
        this.#expectPunct(':');
        const arm = this.#declaration('arm');
        this.#expectPunct(';');
        if (dflt) this.diags.error(t.pos, 'a union can have only one default arm');
        else dflt = arm;
      } else if (t.kind === 'punct' && t.text === '}') {
        break;
      } else this.#expected("'case', 'default' or '}'");
    }
    if (cases.length === 0 && !dflt) this.diags.error(open.pos, 'a union needs at least one arm');
    this.#next();
    const body: UnionBody = { discriminant, cases };
    if (dflt) body.default = dflt;
    return body;
  }

  #program(): Definition {
    this.#next();
    const name = this.#name('a program name');
    this.#expectPunct('{');
    const versions: Version[] = [];
    while (!this.#isPunct('}')) {
      if (!this.#isKw('version')) this.#expected(versions.length ? "'version' or '}'" : "'version'");
      this.#next();
      const vname = this.#name('a version name');
      this.#expectPunct('{');
      const procedures: Procedure[] = [];
      while (!this.#isPunct('}')) procedures.push(this.#procedure());
      if (procedures.length === 0) this.#expected('a procedure');
      this.#next();
      this.#expectPunct('=');
      const number = this.#value();
      this.#expectPunct(';');
      versions.push({ name: vname.text, number, procedures, pos: vname.pos });
    }
    if (versions.length === 0) this.#expected("'version'");
    this.#next();
    this.#expectPunct('=');
    const number = this.#value();
    this.#expectPunct(';');
    return { kind: 'program', name: name.text, number, versions, pos: name.pos };
  }

  #procedure(): Procedure {
    const result = this.#procDeclaration(false);
    const name = this.#name('a procedure name');
    this.#expectPunct('(');
    const args: Declaration[] = [];
    if (this.#isPunct(')')) this.#expected("an argument type or 'void'");
    do args.push(this.#procDeclaration(true));
    while (this.#eatPunct(','));
    this.#expectPunct(')');
    this.#expectPunct('=');
    const number = this.#value();
    this.#expectPunct(';');
    if (args.length === 1 && args[0]!.kind === 'void') args.length = 0;
    else for (const a of args) if (a.kind === 'void') this.diags.error(a.pos, "'void' must be the only argument");
    return { name: name.text, number, result, args, pos: name.pos };
  }
}

function tokenWidth(t: Token): number {
  return t.kind === 'string' ? t.text.length + 2 : t.text.length;
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'passthrough') return "a '%' line";
  if (t.kind === 'string') return `string "${t.text}"`;
  return `'${t.text}'`;
}
