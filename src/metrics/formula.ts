import jsep from 'jsep';

/**
 * Formulas combine named series arithmetically: + - * /, parentheses, numbers, and abs, round,
 * min, max, coalesce. They are parsed with jsep into a tree, checked against this grammar, and
 * compiled into SQL over the series' column aliases; a name can never become SQL text of its own
 * (aliases are generated), so a formula cannot inject SQL. Division by zero yields NULL.
 */
export type Formula =
  | { kind: 'number'; value: number }
  | { kind: 'series'; name: string }
  | { kind: 'negate'; operand: Formula }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: Formula; right: Formula }
  | { kind: 'call'; fn: FormulaFunction; args: Formula[] };

const FUNCTIONS = { abs: [1, 1], round: [1, 2], min: [2, 8], max: [2, 8], coalesce: [2, 8] } as const;
export type FormulaFunction = keyof typeof FUNCTIONS;
const BINARY = new Set(['+', '-', '*', '/']);
export const MAX_FORMULA_LENGTH = 500;

export class FormulaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormulaError';
  }
}

type Node = jsep.Expression;

export function parseFormula(text: string): Formula {
  if (text.length > MAX_FORMULA_LENGTH) throw new FormulaError(`must be at most ${MAX_FORMULA_LENGTH} characters`);
  let tree: Node;
  try {
    tree = jsep(text);
  } catch (err) {
    throw new FormulaError(`cannot be parsed: ${(err as Error).message}`);
  }
  return convert(tree, 0);
}

function convert(node: Node, depth: number): Formula {
  if (depth > 32) throw new FormulaError('is nested too deeply');
  switch (node.type) {
    case 'Literal': {
      const value = node.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new FormulaError(`only numbers may be literals, not ${String(node.raw)}`);
      return { kind: 'number', value };
    }
    case 'Identifier':
      return { kind: 'series', name: String(node.name) };
    case 'UnaryExpression': {
      if (node.operator === '+') return convert(node.argument as Node, depth + 1);
      if (node.operator === '-') return { kind: 'negate', operand: convert(node.argument as Node, depth + 1) };
      throw new FormulaError(`operator "${String(node.operator)}" is not allowed`);
    }
    case 'BinaryExpression': {
      const op = String(node.operator);
      if (!BINARY.has(op)) throw new FormulaError(`operator "${op}" is not allowed (use + - * /)`);
      return {
        kind: 'binary',
        op: op as '+' | '-' | '*' | '/',
        left: convert(node.left as Node, depth + 1),
        right: convert(node.right as Node, depth + 1),
      };
    }
    case 'CallExpression': {
      const callee = node.callee as Node;
      const fn = callee.type === 'Identifier' ? String(callee.name) : '';
      if (!Object.hasOwn(FUNCTIONS, fn)) {
        throw new FormulaError(`function "${fn || '?'}" is not allowed (use ${Object.keys(FUNCTIONS).join(', ')})`);
      }
      const args = (node.arguments as Node[]).map((a) => convert(a, depth + 1));
      const [lo, hi] = FUNCTIONS[fn as FormulaFunction];
      if (args.length < lo || args.length > hi) throw new FormulaError(`${fn} takes ${lo === hi ? lo : `${lo} to ${hi}`} arguments`);
      if (fn === 'round' && args[1] && args[1].kind !== 'number') throw new FormulaError('round takes a number of digits');
      return { kind: 'call', fn: fn as FormulaFunction, args };
    }
    default:
      throw new FormulaError(`${node.type.replace(/Expression$/, '').toLowerCase() || 'that'} is not allowed in a formula`);
  }
}

/** Series names a formula mentions, in order of first use. */
export function seriesNames(formula: Formula, into: string[] = []): string[] {
  switch (formula.kind) {
    case 'series':
      if (!into.includes(formula.name)) into.push(formula.name);
      break;
    case 'negate':
      seriesNames(formula.operand, into);
      break;
    case 'binary':
      seriesNames(formula.left, into);
      seriesNames(formula.right, into);
      break;
    case 'call':
      for (const a of formula.args) seriesNames(a, into);
      break;
  }
  return into;
}

/** SQL for the formula, given each series' SQL (an alias chosen by the query builder). */
export function compileFormula(formula: Formula, seriesSql: (name: string) => string): string {
  switch (formula.kind) {
    case 'number':
      return `toFloat64(${formula.value})`;
    case 'series':
      return `toFloat64(${seriesSql(formula.name)})`;
    case 'negate':
      return `(-${compileFormula(formula.operand, seriesSql)})`;
    case 'binary': {
      const l = compileFormula(formula.left, seriesSql);
      const r = compileFormula(formula.right, seriesSql);
      if (formula.op === '/') return `if(${r} = 0, NULL, ${l} / ${r})`;
      return `(${l} ${formula.op} ${r})`;
    }
    case 'call': {
      const args = formula.args.map((a) => compileFormula(a, seriesSql));
      switch (formula.fn) {
        case 'abs':
          return `abs(${args[0]})`;
        case 'round':
          return `round(${args[0]}, ${formula.args[1] ? Math.trunc((formula.args[1] as { value: number }).value) : 0})`;
        case 'min':
          return `least(${args.join(', ')})`;
        case 'max':
          return `greatest(${args.join(', ')})`;
        case 'coalesce':
          return `coalesce(${args.join(', ')})`;
      }
    }
  }
}
