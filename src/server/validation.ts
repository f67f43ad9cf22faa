/**
 * Schema compilers: bodies strictly typed (no coercion: "1" is not a number), query and path
 * parameters coerced from strings; every error reported (allErrors), so a 400 names each field.
 * Also registers the shared error schema the routes' responses refer to.
 */
import type { FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import { errorSchema } from './schemas.js';

const bodyAjvOptions = { allErrors: true, strict: false, strictNumbers: true, coerceTypes: false, useDefaults: true, removeAdditional: false } as const;

export function installValidation(app: FastifyInstance): void {
  const bodyAjv = new Ajv(bodyAjvOptions);
  const paramAjv = new Ajv({ ...bodyAjvOptions, coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
  app.addSchema(errorSchema);
}
