/**
 * Import-rule companion (run by `npm run check:imports`): `process.exit` may be called only in
 * src/cli/ (the composition root). Parses each .ts file with the TypeScript compiler, so comments and
 * strings that mention process.exit do not count. Usage: node tools/check-process-exit.mjs [srcDir]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

const root = process.argv[2] ?? 'src';
const files = readdirSync(root, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts'))
  .map((e) => join(e.parentPath ?? e.path, e.name))
  .filter((f) => !relative(root, f).startsWith(`cli${sep}`));

const found = [];
for (const file of files) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const visit = (node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'exit' &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process'
    ) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      found.push(`${file}:${line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
if (found.length > 0) {
  process.stderr.write(
    `error process-exit-only-in-cli: process.exit outside ${join(root, 'cli')}/ (return an exit code to the CLI instead):\n` +
      found.map((f) => `  ${f}\n`).join(''),
  );
  process.exitCode = 1;
} else {
  process.stdout.write(`✔ process.exit only in ${join(root, 'cli')}/ (${files.length} other files checked)\n`);
}
