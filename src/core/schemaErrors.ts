/**
 * One JSON-schema error (Ajv) as "field.path: what is allowed", for the files repricer validates
 * (model, policy): required fields, constants, an enum's values and, for an object that takes
 * no other keys, the names it does take (read from the schema).
 */
import type { ErrorObject } from 'ajv';

interface SchemaNode {
  properties?: Record<string, unknown>;
  additionalProperties?: unknown;
}

/** The schema node at an instance path (named properties, or the schema of additional ones). */
function schemaAt(schema: unknown, path: string[]): SchemaNode | undefined {
  let node: unknown = schema;
  for (const part of path) {
    const n = node as SchemaNode;
    node = n.properties?.[part] ?? (typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined);
    if (!node) return undefined;
  }
  return node as SchemaNode;
}

export function describeSchemaError(e: ErrorObject, schema: unknown, what = 'field'): string {
  const parts = e.instancePath ? e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')) : [];
  const path = parts.join('.') || '(root)';
  const child = (name: string) => `${parts.length ? `${path}.` : ''}${name}`;
  switch (e.keyword) {
    case 'required':
      return `${child(String(e.params.missingProperty))}: is required`;
    case 'const':
      return `${path}: must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'enum':
      return `${path}: must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(schema, parts)?.properties ?? {});
      return `${child(String(e.params.additionalProperty))}: is not a ${what}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
    }
    default:
      return `${path}: ${e.message ?? 'is invalid'}`;
  }
}
