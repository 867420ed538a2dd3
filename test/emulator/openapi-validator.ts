/**
 * Checks requests and responses against GitHub's REST description with ajv. Schemas are compiled
 * lazily, per operation actually hit, so starting an emulator stays cheap.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  loadOpenApi,
  type OpenApiDocument,
  type OpenApiParameter,
  type Operation,
  resolveRef,
} from './openapi.js';

/** Outcome of one check: `errors` is empty when the value conforms. */
export interface ValidationResult {
  errors: string[];
}

const DOC_ID = 'https://api.github.com/openapi.json';
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv {
  if (ajv) return ajv;
  const doc = loadOpenApi();
  ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: {
      'date-time': (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)),
      date: /^\d{4}-\d{2}-\d{2}$/,
      uri: (s: string) => URL.canParse(s),
      email: /^[^\s@]+@[^\s@]+$/,
      // Hints for code generators, not constraints on the wire.
      'uri-template': true,
      int32: true,
      int64: true,
      double: true,
      'repo.nwo': true,
      binary: true,
    },
  });
  // Registered once, not compiled: ajv compiles only what a `$ref` below actually reaches.
  // Meta-validation is skipped because the document is not itself a JSON Schema.
  ajv.addSchema({ $id: DOC_ID, paths: doc.paths, components: doc.components }, undefined, undefined, false);
  return ajv;
}

/** Reads the node at a JSON pointer, following `$ref`s, and returns its final pointer. */
function follow(doc: OpenApiDocument, pointer: string): { pointer: string; node: any } {
  let current = pointer;
  for (;;) {
    const node = current
      .slice(1)
      .split('/')
      .reduce<any>(
        (n, part) => n?.[part.replaceAll('~1', '/').replaceAll('~0', '~')],
        doc as unknown as Record<string, unknown>,
      );
    if (node && typeof node === 'object' && typeof node.$ref === 'string') {
      current = (node.$ref as string).slice(1);
      continue;
    }
    return { pointer: current, node };
  }
}

function validatorAt(pointer: string): ValidateFunction {
  let fn = compiled.get(pointer);
  if (!fn) {
    fn = instance().compile({ $ref: `${DOC_ID}#${pointer}` });
    compiled.set(pointer, fn);
  }
  return fn;
}

function describe(errors: ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).slice(0, 20).map((e) => {
    const where = `${prefix}${e.instancePath || ''}` || '(root)';
    const extra =
      'additionalProperty' in e.params
        ? ` (${String(e.params['additionalProperty'])})`
        : 'allowedValues' in e.params
          ? ` (${JSON.stringify(e.params['allowedValues'])})`
          : '';
    return `${where} ${e.message ?? 'is invalid'}${extra}`;
  });
}

/** Converts a path/query string to the declared JSON type so `integer` params can be checked. */
function coerce(value: string, schema: Record<string, unknown> | undefined): unknown {
  const type = schema?.['type'];
  if (type === 'integer' || type === 'number') {
    return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/**
 * Validates the path parameters, the query parameters the operation declares, and the JSON body
 * against the operation's `requestBody`. `body` is `undefined` when the request had none.
 */
export function validateRequest(
  operation: Operation,
  pathParams: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): ValidationResult {
  const doc = loadOpenApi();
  const errors: string[] = [];
  const declared: unknown[] = operation.raw['parameters'] ?? [];
  declared.forEach((ref, index) => {
    const located = follow(doc, `${operation.pointer}/parameters/${index}`);
    const param = resolveRef<OpenApiParameter>(doc, ref);
    if (param.in !== 'path' && param.in !== 'query') return;
    const raw = param.in === 'path' ? pathParams[param.name] : (query.get(param.name) ?? undefined);
    if (raw === undefined) {
      if (param.required) errors.push(`${param.in} parameter ${param.name} is required`);
      return;
    }
    if (!param.schema) return;
    const fn = validatorAt(`${located.pointer}/schema`);
    if (!fn(coerce(raw, param.schema)))
      errors.push(...describe(fn.errors, `${param.in} parameter ${param.name}`));
  });
  const requestBody = operation.raw['requestBody'];
  if (requestBody) {
    const located = follow(doc, `${operation.pointer}/requestBody`);
    if (body === undefined) {
      if (located.node?.required) errors.push('request body is required');
    } else if (located.node?.content?.['application/json']?.schema) {
      const fn = validatorAt(`${located.pointer}/content/application~1json/schema`);
      if (!fn(body)) errors.push(...describe(fn.errors, 'body'));
    }
  } else if (body !== undefined && operation.method !== 'GET') {
    errors.push('request body is not accepted by this operation');
  }
  return { errors };
}

/**
 * Validates a JSON response body against the schema documented for `status`. Undocumented error
 * statuses (GitHub may answer 401/5xx anywhere) are checked against `basic-error`; undocumented
 * success statuses are a violation.
 */
export function validateResponse(operation: Operation, status: number, body: unknown): ValidationResult {
  const doc = loadOpenApi();
  const responses: Record<string, unknown> = operation.raw['responses'] ?? {};
  const key = String(status) in responses ? String(status) : 'default' in responses ? 'default' : undefined;
  if (key === undefined) {
    if (status < 400) return { errors: [`status ${status} is not documented for ${operation.operationId}`] };
    const fn = validatorAt('/components/schemas/basic-error');
    return { errors: fn(body) ? [] : describe(fn.errors, 'response') };
  }
  const located = follow(doc, `${operation.pointer}/responses/${key}`);
  const content = located.node?.content as Record<string, { schema?: unknown }> | undefined;
  if (!content?.['application/json']?.schema) {
    return { errors: body === undefined ? [] : [`status ${status} of ${operation.operationId} has no body`] };
  }
  const fn = validatorAt(`${located.pointer}/content/application~1json/schema`);
  return { errors: fn(body) ? [] : describe(fn.errors, 'response') };
}

/** Validates a value against `components/schemas/<name>` (used to check builders and examples). */
export function validateSchema(name: string, value: unknown): ValidationResult {
  const fn = validatorAt(`/components/schemas/${name}`);
  return { errors: fn(value) ? [] : describe(fn.errors, name) };
}
