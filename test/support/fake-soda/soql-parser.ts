/**
 * A SoQL parser for the fake SODA server: the subset our client and tests use, parsed the way
 * Socrata does (keywords in any case, single-quoted strings with doubled quotes, backtick-quoted
 * names), so a query the real API would refuse is refused here too.
 */

export type Literal = string | number | boolean | null;

export type Expr =
  | { type: 'column'; name: string }
  | { type: 'literal'; value: Literal }
  | { type: 'compare'; operator: '=' | '!=' | '<' | '<=' | '>' | '>='; left: Expr; right: Expr }
  | { type: 'and' | 'or'; left: Expr; right: Expr }
  | { type: 'not'; operand: Expr }
  | { type: 'is-null'; operand: Expr; negated: boolean }
  | { type: 'between'; operand: Expr; low: Expr; high: Expr; negated: boolean }
  | { type: 'in'; operand: Expr; values: Expr[]; negated: boolean }
  | { type: 'like'; operand: Expr; pattern: Expr; negated: boolean }
  | { type: 'call'; name: string; args: Expr[] };

export interface OrderTerm {
  expr: Expr;
  descending: boolean;
  /** Where absent values go; by default last ascending, first descending (as in PostgreSQL). */
  nullsFirst: boolean;
}

export type SelectTerm =
  { type: 'all' } | { type: 'system' } | { type: 'expr'; expr: Expr; alias?: string };

/** A query Socrata would refuse to compile; the server answers 400 `query.compiler.malformed`. */
export class SoqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

type Token =
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'name'; value: string; at: number; quoted: boolean }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; at: number };

const operators = ['<=', '>=', '!=', '<>', '=', '<', '>', '(', ')', ',', '*'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i += 1;
      continue;
    }
    const at = i;
    if (char === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new SoqlSyntaxError('unterminated string literal', at);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ kind: 'string', value, at });
      continue;
    }
    if (char === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new SoqlSyntaxError('unterminated quoted name', at);
      tokens.push({ kind: 'name', value: text.slice(i + 1, end), at, quoted: true });
      i = end + 1;
      continue;
    }
    const number = /^\d+(\.\d+)?/.exec(text.slice(i, i + 40));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at });
      i += number[0].length;
      continue;
    }
    if (char === ':' && text[i + 1] === '*') {
      tokens.push({ kind: 'op', value: ':*', at });
      i += 2;
      continue;
    }
    const name = /^:?@?[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 200));
    if (name) {
      tokens.push({ kind: 'name', value: name[0], at, quoted: false });
      i += name[0].length;
      continue;
    }
    const operator = operators.find((candidate) => text.startsWith(candidate, i));
    if (operator) {
      tokens.push({ kind: 'op', value: operator === '<>' ? '!=' : operator, at });
      i += operator.length;
      continue;
    }
    if (char === '-' && /\d/.test(text[i + 1] ?? '')) {
      const negative = /^-\d+(\.\d+)?/.exec(text.slice(i, i + 40))!;
      tokens.push({ kind: 'number', value: Number(negative[0]), at });
      i += negative[0].length;
      continue;
    }
    throw new SoqlSyntaxError(`unexpected character ${JSON.stringify(char)}`, at);
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  /** The next token if it is this keyword (any case, unquoted). */
  keyword(word: string): boolean {
    const token = this.peek();
    if (token.kind === 'name' && !token.quoted && token.value.toUpperCase() === word) {
      this.index += 1;
      return true;
    }
    return false;
  }

  private isKeywordAhead(word: string, offset = 0): boolean {
    const token = this.tokens[this.index + offset];
    return token?.kind === 'name' && !token.quoted && token.value.toUpperCase() === word;
  }

  op(value: string): boolean {
    const token = this.peek();
    if (token.kind === 'op' && token.value === value) {
      this.index += 1;
      return true;
    }
    return false;
  }

  expectOp(value: string): void {
    if (!this.op(value)) this.fail(`expected "${value}"`);
  }

  fail(message: string): never {
    const token = this.peek();
    const found = token.kind === 'end' ? 'end of input' : JSON.stringify(String(token.value));
    throw new SoqlSyntaxError(`${message}, found ${found}`, token.at);
  }

  atEnd(): boolean {
    return this.peek().kind === 'end';
  }

  expression(): Expr {
    let left = this.conjunction();
    while (this.keyword('OR')) left = { type: 'or', left, right: this.conjunction() };
    return left;
  }

  private conjunction(): Expr {
    let left = this.negation();
    while (this.keyword('AND')) left = { type: 'and', left, right: this.negation() };
    return left;
  }

  private negation(): Expr {
    if (this.keyword('NOT')) return { type: 'not', operand: this.negation() };
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.operand();
    const token = this.peek();
    if (token.kind === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(token.value)) {
      this.next();
      return { type: 'compare', operator: token.value as '=', left, right: this.operand() };
    }
    if (this.keyword('IS')) {
      const negated = this.keyword('NOT');
      if (!this.keyword('NULL')) this.fail('expected NULL after IS');
      return { type: 'is-null', operand: left, negated };
    }
    const negated =
      this.isKeywordAhead('NOT') &&
      ['BETWEEN', 'IN', 'LIKE'].some((word) => this.isKeywordAhead(word, 1));
    if (negated) this.next();
    if (this.keyword('BETWEEN')) {
      const low = this.operand();
      if (!this.keyword('AND')) this.fail('expected AND in BETWEEN');
      return { type: 'between', operand: left, low, high: this.operand(), negated };
    }
    if (this.keyword('IN')) {
      this.expectOp('(');
      const values = [this.operand()];
      while (this.op(',')) values.push(this.operand());
      this.expectOp(')');
      return { type: 'in', operand: left, values, negated };
    }
    if (this.keyword('LIKE'))
      return { type: 'like', operand: left, pattern: this.operand(), negated };
    return left;
  }

  operand(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { type: 'literal', value: token.value };
      case 'number':
        return { type: 'literal', value: token.value };
      case 'op':
        if (token.value === '(') {
          const inner = this.expression();
          this.expectOp(')');
          return inner;
        }
        break;
      case 'name': {
        if (!token.quoted) {
          const upper = token.value.toUpperCase();
          if (upper === 'TRUE' || upper === 'FALSE')
            return { type: 'literal', value: upper === 'TRUE' };
          if (upper === 'NULL') return { type: 'literal', value: null };
        }
        if (this.op('(')) {
          const args: Expr[] = [];
          if (!this.op(')')) {
            args.push(this.op('*') ? { type: 'column', name: '*' } : this.expression());
            while (this.op(',')) args.push(this.expression());
            this.expectOp(')');
          }
          return { type: 'call', name: token.value.toLowerCase(), args };
        }
        return { type: 'column', name: token.value };
      }
      case 'end':
        break;
    }
    this.index -= token.kind === 'end' ? 0 : 1;
    this.fail('expected a value, a column or "("');
  }
}

function parseAll<T>(text: string, read: (parser: Parser) => T): T {
  const parser = new Parser(tokenize(text));
  const result = read(parser);
  if (!parser.atEnd()) parser.fail('unexpected text after the end of the expression');
  return result;
}

export function parseWhere(text: string): Expr {
  return parseAll(text, (parser) => parser.expression());
}

export function parseOrder(text: string): OrderTerm[] {
  return parseAll(text, (parser) => {
    const terms: OrderTerm[] = [];
    do {
      const expr = parser.expression();
      const descending = parser.keyword('DESC');
      if (!descending) parser.keyword('ASC');
      let nullsFirst = descending;
      if (parser.keyword('NULL') || parser.keyword('NULLS')) {
        if (parser.keyword('FIRST')) nullsFirst = true;
        else if (parser.keyword('LAST')) nullsFirst = false;
        else parser.fail('expected FIRST or LAST');
      }
      terms.push({ expr, descending, nullsFirst });
    } while (parser.op(','));
    return terms;
  });
}

export function parseSelect(text: string): SelectTerm[] {
  return parseAll(text, (parser) => {
    const terms: SelectTerm[] = [];
    do {
      if (parser.op('*')) terms.push({ type: 'all' });
      else if (parser.op(':*')) terms.push({ type: 'system' });
      else {
        const expr = parser.expression();
        if (parser.keyword('AS')) {
          const alias = parser.operand();
          if (alias.type !== 'column') return parser.fail('expected a name after AS');
          terms.push({ type: 'expr', expr, alias: alias.name });
        } else terms.push({ type: 'expr', expr });
      }
    } while (parser.op(','));
    return terms;
  });
}
