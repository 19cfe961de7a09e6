// Lints every Cypher statement Baton sends with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support). Reads the manifest JSON on stdin:
//   python -m catalog.stores.neo4j.lint_manifest | node tools/cypher-lint/lint.mjs
// Any diagnostic (error or warning: unknown label, property or parameter, deprecation)
// fails the run.
import { readFileSync } from 'node:fs';
import { lintCypherQuery } from '@neo4j-cypher/language-support';

const manifest = JSON.parse(readFileSync(0, 'utf8'));
let problems = 0;
for (const statement of manifest.statements) {
  const schema = { ...manifest.schema, parameters: statement.parameters };
  const { diagnostics } = lintCypherQuery(statement.text, schema);
  for (const d of diagnostics) {
    problems += 1;
    const where = d.offsets ? ` at ${d.offsets.start}` : '';
    console.error(`${statement.name}${where}: ${d.message}`);
    console.error(`  ${statement.text}`);
  }
}
console.log(`cypher-lint: ${manifest.statements.length} statements, ${problems} problems`);
process.exit(problems === 0 && manifest.statements.length > 0 ? 0 : 1);
