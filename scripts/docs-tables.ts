/**
 * Generates the README's two tables from the code, between their markers:
 *   docs/errors-table.md  <!-- errors:start --> ... <!-- errors:end -->  from ERROR_CATALOG
 *   docs/api-table.md     <!-- api:start --> ... <!-- api:end -->        from the OpenAPI document
 * Run: `npx tsx scripts/docs-tables.ts`. test/errors.test.ts and test/server-docs.test.ts check
 * that these files and the README sections stay in step with the code.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { ERROR_CATALOG } from '../src/core/errors.js';
import { buildApp } from '../src/server/app.js';

/**
 * curl examples for the API table (host and key as placeholders). They run as written, top to
 * bottom, against `repricer serve --api-key-file FILE` (KEY its key) started in the repository
 * after `npm start`, which serves the demo model (features f1..f16); JOB is the id the fit
 * answered. test/readme-examples.test.ts runs them in the order of the table.
 */
const F = '{"f1":0.1,"f2":-0.2,"f3":0.3,"f4":0,"f5":0.5,"f6":-0.1,"f7":0.2,"f8":0,"f9":0.1,"f10":0.4,"f11":-0.3,"f12":0,"f13":0.2,"f14":0.1,"f15":-0.5,"f16":0}';
export const API_EXAMPLES: Record<string, string> = {
  'POST /v1/quote': `curl -s localhost:8080/v1/quote -H 'content-type: application/json' -d '{"product_id":"SKU-1","features":${F},"cost":0.8,"current_price":21}'`,
  'POST /v1/quotes': `curl -s localhost:8080/v1/quotes -H 'content-type: application/json' -d '{"items":[{"product_id":"SKU-1","features":${F}},{"product_id":"NEW-1","features":${F}}]}'`,
  'POST /v1/observations': `curl -s localhost:8080/v1/observations -H "authorization: Bearer $KEY" -H 'idempotency-key: feed-0001' -H 'content-type: application/json' -d '{"observations":[{"product_id":"SKU-1","features":${F},"price":21.5,"won":1,"competitor_price":22.4},{"product_id":"SKU-1","features":${F},"price":23.9,"won":0}]}'`,
  // a CSV file as `repricer fit --observations` reads it, here from printf (a file: --data-binary @obs.csv)
  'POST /v1/observations/bulk': `printf 'product_id,price,won,competitor_price,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16\\nSKU-2,20.5,1,21.9,0.1,-0.2,0.3,0,0.5,-0.1,0.2,0,0.1,0.4,-0.3,0,0.2,0.1,-0.5,0\\nSKU-2,24.1,0,,0.1,-0.2,0.3,0,0.5,-0.1,0.2,0,0.1,0.4,-0.3,0,0.2,0.1,-0.5,0\\n' | curl -s localhost:8080/v1/observations/bulk -H "authorization: Bearer $KEY" -H 'idempotency-key: upload-0001' -H 'content-type: text/csv' --data-binary @-`,
  'GET /v1/observations/batches': 'curl -s localhost:8080/v1/observations/batches -H "authorization: Bearer $KEY"',
  'DELETE /v1/observations/batches/:id': 'curl -s -X DELETE localhost:8080/v1/observations/batches/feed-0001 -H "authorization: Bearer $KEY"',
  'POST /v1/models/fit': `curl -s localhost:8080/v1/models/fit -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"strategy":"tsmt","scale":2}'`,
  'GET /v1/jobs/:id': 'curl -s localhost:8080/v1/jobs/$JOB',
  'GET /v1/models': 'curl -s localhost:8080/v1/models',
  'GET /v1/models/:version': 'curl -s localhost:8080/v1/models/v2',
  'POST /v1/models': `curl -s localhost:8080/v1/models -H "authorization: Bearer $KEY" -H 'content-type: application/json' --data-binary @demo/model.json`,
  'POST /v1/models/:version/activate': 'curl -s -X POST localhost:8080/v1/models/v2/activate -H "authorization: Bearer $KEY"',
  'GET /v1/products/:id/prices': "curl -s 'localhost:8080/v1/products/SKU-1/prices?limit=10'",
  'GET /v1/breakers': 'curl -s localhost:8080/v1/breakers',
  'PUT /v1/breakers': `curl -s -X PUT localhost:8080/v1/breakers -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"format":"repricer.breakers/1","segments":{"toys":{"trippedAt":"2026-12-05T02:00:00.000Z","trippedRun":"nightly-2026-12-05","why":[{"measure":"moves","sharePct":62.5,"limitPct":30,"threshold":20}],"cleanRuns":0,"resumeAfterRuns":2}}}'`,
  'POST /v1/breakers/:segment/reset': 'curl -s -X POST localhost:8080/v1/breakers/toys/reset -H "authorization: Bearer $KEY"',
  'GET /healthz': 'curl -s localhost:8080/healthz',
  'GET /readyz': 'curl -s localhost:8080/readyz',
  'GET /metrics': 'curl -s localhost:8080/metrics',
};

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function errorsTable(): string {
  const rows = Object.entries(ERROR_CATALOG).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.exit} | ${cell(e.message)} |`);
  return ['<!-- errors:start -->', '| code | HTTP | exit | meaning |', '|---|---|---|---|', ...rows, '<!-- errors:end -->', ''].join('\n');
}

export async function apiTable(): Promise<string> {
  const app = buildApp({ defaultMetrics: false, pool: false });
  await app.ready();
  const doc = app.swagger() as { paths: Record<string, Record<string, { summary?: string; security?: unknown[] }>> };
  await app.close();
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      const ex = API_EXAMPLES[route];
      if (!ex) throw new Error(`no example for ${route} in scripts/docs-tables.ts`);
      rows.push(`| \`${route}\` | ${cell(op.summary ?? '')}${op.security ? ' (API key)' : ''} | \`${cell(ex)}\` |`);
    }
  }
  return ['<!-- api:start -->', '| route | purpose | example |', '|---|---|---|', ...rows, '<!-- api:end -->', ''].join('\n');
}

if (process.argv[1] && /docs-tables\.[tj]s$/.test(process.argv[1])) {
  mkdirSync('docs', { recursive: true });
  writeFileSync('docs/errors-table.md', errorsTable());
  writeFileSync('docs/api-table.md', await apiTable());
  process.stdout.write('wrote docs/errors-table.md and docs/api-table.md\n');
}
