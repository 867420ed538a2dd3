/**
 * GitHub's REST description (the OpenAPI 3.0 document shipped in @octokit/openapi), loaded once per
 * process and adapted for JSON Schema validation, plus the path-template lookup of operations.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** An OpenAPI parameter (after `$ref` resolution). */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Record<string, unknown>;
  'x-multi-segment'?: boolean;
}

/** One operation of the document, located by its path template and method. */
export interface Operation {
  operationId: string;
  method: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  template: string;
  /** JSON pointer (without `#`) to the operation object inside the document. */
  pointer: string;
  /** The raw operation object. */
  raw: Record<string, any>;
}

/** A request path matched against the document. */
export interface OperationMatch {
  operation: Operation;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
}

/** The parts of the document this emulator uses. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components: Record<string, Record<string, any>>;
}

let cached: OpenApiDocument | undefined;

/** Where the document lives: resolved through node's resolver so a hoisted install still works. */
function documentPath(): string {
  const require = createRequire(import.meta.url);
  // Resolve the package.json only: requiring the package itself would load ~385 MB of JSON.
  const pkg = require.resolve('@octokit/openapi/package.json');
  return path.join(path.dirname(pkg), 'generated', 'api.github.com.json');
}

/**
 * Loads GitHub's REST description once per process (13 MB; parsing costs ~100 ms) and rewrites
 * OpenAPI 3.0 `nullable: true` into JSON Schema so ajv can check it.
 */
export function loadOpenApi(): OpenApiDocument {
  if (cached) return cached;
  const file = documentPath();
  let doc: OpenApiDocument;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  } catch (error) {
    throw new Error(
      `Cannot read GitHub's OpenAPI description at ${file}: ${(error as Error).message}. ` +
        'Install the dev dependency @octokit/openapi (npm ci).',
    );
  }
  convertNullable(doc.components.schemas);
  convertNullable(doc.components.responses);
  convertNullable(doc.components.parameters);
  convertNullable(doc.paths);
  cached = doc;
  return doc;
}

/**
 * Turns `nullable: true` into `type: [t, 'null']` (or an `anyOf` with null when there is no type),
 * in place. ajv's own `nullable` support refuses schemas that have no `type`, and GitHub's document
 * has over a hundred of those (`{nullable: true, oneOf: [...]}`).
 */
export function convertNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) convertNullable(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    // Examples are data, not schemas: a `nullable` key in them must stay as it is.
    if (key === 'example' || key === 'examples') continue;
    convertNullable(value);
  }
  if (obj['nullable'] !== true) return;
  delete obj['nullable'];
  const type = obj['type'];
  if (typeof type === 'string') {
    obj['type'] = [type, 'null'];
    const values = obj['enum'];
    if (Array.isArray(values) && !values.includes(null)) values.push(null);
    return;
  }
  const combinator = ['anyOf', 'oneOf', 'allOf', '$ref'].some((k) => k in obj);
  // A bare `{nullable: true}` already accepts anything, null included.
  if (!combinator) return;
  const rest = { ...obj };
  for (const key of Object.keys(obj)) delete obj[key];
  obj['anyOf'] = [rest, { type: 'null' }];
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Follows a local `$ref` (`#/components/...`) inside the document. */
export function resolveRef<T = Record<string, any>>(doc: OpenApiDocument, value: any): T {
  let current = value;
  while (current && typeof current === 'object' && typeof current.$ref === 'string') {
    const ref: string = current.$ref;
    if (!ref.startsWith('#/')) throw new Error(`Unsupported $ref ${ref} in GitHub's OpenAPI description`);
    current = ref
      .slice(2)
      .split('/')
      .reduce<any>(
        (node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')],
        doc as unknown as Record<string, unknown>,
      );
    if (current === undefined) throw new Error(`Dangling $ref ${ref} in GitHub's OpenAPI description`);
  }
  return current as T;
}

interface CompiledTemplate {
  operation: Operation;
  regex: RegExp;
  names: string[];
  /** Literal characters: more literal text wins when two templates match (`pulls/comments`). */
  literal: number;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
let templates: Map<string, CompiledTemplate[]> | undefined;

function compileTemplates(doc: OpenApiDocument): Map<string, CompiledTemplate[]> {
  const byMethod = new Map<string, CompiledTemplate[]>();
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const raw = item[method];
      if (!raw) continue;
      const multi = new Set<string>(
        (raw.parameters ?? [])
          .map((p: unknown) => resolveRef<OpenApiParameter>(doc, p))
          .filter((p: OpenApiParameter) => p['x-multi-segment'])
          .map((p: OpenApiParameter) => p.name),
      );
      const names: string[] = [];
      let literal = 0;
      const source = template.replace(/\{([^}]+)\}|[^{]+/g, (part, name: string | undefined) => {
        if (name === undefined) {
          literal += part.length;
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        names.push(name);
        return multi.has(name) ? '(.+)' : '([^/]+)';
      });
      const operation: Operation = {
        operationId: raw.operationId,
        method: method.toUpperCase(),
        template,
        pointer: `/paths/${pointerSegment(template)}/${method}`,
        raw,
      };
      const list = byMethod.get(operation.method) ?? [];
      list.push({ operation, regex: new RegExp(`^${source}$`), names, literal });
      byMethod.set(operation.method, list);
    }
  }
  for (const list of byMethod.values()) list.sort((a, b) => b.literal - a.literal);
  return byMethod;
}

/** Finds the documented operation for a method and a path (without the API prefix or query). */
export function matchOperation(method: string, pathname: string): OperationMatch | undefined {
  const doc = loadOpenApi();
  templates ??= compileTemplates(doc);
  for (const candidate of templates.get(method.toUpperCase()) ?? []) {
    const m = candidate.regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { operation: candidate.operation, params };
  }
  return undefined;
}

/** A deep copy of `components.examples[name].value`, the realistic object responses start from. */
export function example<T = Record<string, any>>(name: string): T {
  const doc = loadOpenApi();
  const entry = doc.components.examples?.[name];
  if (!entry) throw new Error(`GitHub's OpenAPI description has no example named ${name}`);
  return structuredClone(entry.value) as T;
}
