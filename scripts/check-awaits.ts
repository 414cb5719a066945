/**
 * Finds promises used as if they were values in server/src (the project has no type-aware
 * ESLint; this is the part of @typescript-eslint's no-floating-promises and no-misused-promises
 * that the async StoreTx needs, issue 15):
 *   - a promise as a statement, neither awaited, returned, nor marked `void` (a write not waited for);
 *   - a promise as a condition, or under `!`, `&&`, `||`, `??` (always truthy: `if (tx.chatExists(id))`);
 *   - a function answering a promise where the caller expects a plain value or nothing
 *     (`ids.filter((id) => tx.engaged(id))` keeps every id; `forEach(async ...)` waits for none).
 * `npm run lint` runs it; `npx tsx scripts/check-awaits.ts [files...]`: prints each place, exits 1 if any.
 */
import ts from 'typescript';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
const only = process.argv.slice(2).map((f) => path.resolve(f));
// Given files: a program of those alone (and what they import), much quicker than the whole tree.
const program = ts.createProgram(only.length > 0 ? only : config.fileNames, config.options);
const checker = program.getTypeChecker();
const found: string[] = [];

/** Some part of the type is a promise (or another thenable). */
function thenable(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(thenable);
  const then = type.getProperty('then');
  if (!then) return false;
  const thenType = checker.getTypeOfSymbol(then);
  return thenType.getCallSignatures().length > 0;
}

/** Every part of the type is: `if (this.pending)` on `Promise | undefined` is a fair question. */
function alwaysThenable(type: ts.Type): boolean {
  return type.isUnion() ? type.types.every(alwaysThenable) : thenable(type);
}

/** A statement that handles its promise anyway: an assignment, `.catch(f)`, `.then(f, g)`. */
function handled(e: ts.Expression): boolean {
  if (ts.isBinaryExpression(e)) return e.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && e.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
  if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
  const name = e.expression.name.text;
  return (name === 'catch' && e.arguments.length >= 1) || (name === 'then' && e.arguments.length >= 2);
}

const typeOf = (node: ts.Node) => checker.getTypeAtLocation(node);

function report(node: ts.Node, what: string) {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart());
  found.push(`${path.relative(root, sf.fileName)}:${line + 1}:${character + 1}: ${what}: ${node.getText().slice(0, 100)}`);
}

function checkCondition(node: ts.Expression | undefined) {
  if (!node) return;
  const inner = ts.skipPartiallyEmittedExpressions(node);
  if (ts.isParenthesizedExpression(inner)) return checkCondition(inner.expression);
  if (ts.isBinaryExpression(inner) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken].includes(inner.operatorToken.kind)) {
    checkCondition(inner.left);
    checkCondition(inner.right);
    return;
  }
  if (alwaysThenable(typeOf(inner))) report(inner, 'promise as a condition');
}

const PREDICATES = new Set(['filter', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex']);

/** The return type the context expects of a function argument, if it is not thenable, any or unknown. */
function expectsPlainReturn(fn: ts.ArrowFunction | ts.FunctionExpression): boolean {
  // Predicates are typed `=> unknown`, yet a promise there is always truthy.
  const call = fn.parent;
  if (ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && PREDICATES.has(call.expression.name.text)) return true;
  const contextual = checker.getContextualType(fn);
  if (!contextual) return false;
  const signatures = (contextual.isUnion() ? contextual.types : [contextual]).flatMap((t) => t.getCallSignatures());
  if (signatures.length === 0) return false;
  return signatures.every((s) => {
    const r = s.getReturnType();
    if (r.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return false;
    if (r.isTypeParameter()) return false;
    return !thenable(r);
  });
}

function visit(node: ts.Node) {
  if (ts.isExpressionStatement(node)) {
    const e = node.expression;
    const voided = ts.isVoidExpression(e);
    if (!voided && !ts.isAwaitExpression(e) && !handled(e) && thenable(typeOf(e))) report(e, 'promise not awaited');
  }
  if (ts.isIfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) checkCondition(node.expression);
  if (ts.isForStatement(node)) checkCondition(node.condition);
  if (ts.isConditionalExpression(node)) checkCondition(node.condition);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) checkCondition(node.operand);
  if (ts.isBinaryExpression(node) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(node.operatorToken.kind)) {
    if (alwaysThenable(typeOf(node.left))) report(node.left, 'promise as an operand of a logical operator');
  }
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isCallOrNewExpression(node.parent)) {
    const signature = checker.getSignatureFromDeclaration(node);
    if (signature && thenable(signature.getReturnType()) && expectsPlainReturn(node)) report(node, 'async function where a plain value is expected');
  }
  ts.forEachChild(node, visit);
}

for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile) continue;
  const inScope = only.length > 0 ? only.includes(path.resolve(sf.fileName)) : path.resolve(sf.fileName).startsWith(path.join(root, 'server', 'src') + path.sep);
  if (inScope) visit(sf);
}
for (const line of found) console.log(line);
process.exitCode = found.length > 0 ? 1 : 0;
