/**
 * Schema compilers: bodies strictly typed (no coercion: "1" is not a number), query and path
 * parameters coerced from strings; every error reported (allErrors), so a 400 names each field.
 * Also registers the shared error schema the routes' responses refer to.
 *
 * A file body (an observation upload, routes/observationUpload.ts) has a schema only for the
 * OpenAPI document (`type: string, format: binary` per media type): what Fastify hands the route
 * is the received file, which the fit's readers check row by row, so `fileBodyCompiler` accepts
 * it and compiles the route's other parts (headers) as every route does.
 */
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { Ajv } from 'ajv';
import { errorSchema } from './schemas.js';

const bodyAjvOptions = { allErrors: true, strict: false, strictNumbers: true, coerceTypes: false, useDefaults: true, removeAdditional: false } as const;

const bodyAjv = new Ajv(bodyAjvOptions);
const paramAjv = new Ajv({ ...bodyAjvOptions, coerceTypes: true });

const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema);

/** The validator compiler of a route whose body is a file: the body passes, the rest as usual. */
export const fileBodyCompiler: FastifySchemaCompiler<object> = (route) => (route.httpPart === 'body' ? () => true : compile(route));

export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(compile);
  app.addSchema(errorSchema);
}
