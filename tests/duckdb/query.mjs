// node tests/duckdb/query.mjs "<SQL>": runs one DuckDB query in memory and prints its rows as JSON
// lines, one object per row (the check behind ExportDuckDbTest; usable by hand on any export).
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node query.mjs "<SQL>"');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
const result = await connection.runAndReadAll(sql);
for (const row of result.getRowObjectsJson()) {
  console.log(JSON.stringify(row));
}
