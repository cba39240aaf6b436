// A line printer for generated TypeScript: indentation by nesting, nothing else.

/** Collects lines of code with two-space indentation. */
export class Printer {
  readonly lines: string[] = [];
  #indent = '';

  /** Adds one line (or several, split on newlines) at the current indentation; '' adds a blank line. */
  line(text = ''): this {
    for (const l of text.split('\n')) this.lines.push(l === '' ? '' : this.#indent + l);
    return this;
  }

  /** Adds lines already indented relative to the current level. */
  append(lines: readonly string[]): this {
    for (const l of lines) this.lines.push(l === '' ? '' : this.#indent + l);
    return this;
  }

  /** `open`, then `body` one level deeper, then `close`. */
  block(open: string, body: () => void, close = '}'): this {
    this.line(open);
    this.#indent += '  ';
    body();
    this.#indent = this.#indent.slice(2);
    return this.line(close);
  }

  indent(): this {
    this.#indent += '  ';
    return this;
  }

  dedent(): this {
    this.#indent = this.#indent.slice(2);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}
