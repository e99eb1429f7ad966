import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The published OpenAPI document as a contract every answer must keep: status, media type,
 * documented headers and body. test/support/http.ts checks each answer the e2e tests receive, so
 * an answer the document does not describe fails the test that received it.
 *
 * Request matching follows the server's router: a path template's `{param}` is one segment, a
 * trailing slash is optional, a static path wins over a template. A documented path asked with a
 * method it does not have must answer 405 with `Allow` listing the documented methods, in the
 * envelope of that path's other errors.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, Json>;

interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  responses: Record<string, { content?: Record<string, { schema?: Schema }>; headers?: Record<string, { required?: boolean }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface PathEntry {
  template: string;
  pattern: RegExp;
  params: number;
  item: Record<string, Operation>;
}

export interface ContractRequest {
  method: string;
  /** The path as sent, query included. */
  path: string;
}

export interface ContractResponse {
  status: number;
  headers: Headers;
  text: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** OpenAPI 3.0 keywords that JSON Schema (draft-07) does not know; annotations only. */
const ANNOTATIONS = new Set(['example', 'xml', 'externalDocs', 'discriminator', 'deprecated', 'readOnly', 'writeOnly']);
const COMPONENTS = 'openapi-components';

export class OpenApiContract {
  private readonly paths: PathEntry[];
  private readonly ajv: Ajv;
  private readonly closed: boolean;
  private readonly validators = new Map<string, ValidateFunction>();

  /** `closed`: an object schema without `additionalProperties` allows no property it does not list (answers tell the whole truth). */
  constructor(document: OpenApiDocument, options: { closed?: boolean } = {}) {
    const closed = options.closed ?? true;
    this.paths = Object.entries(document.paths)
      .map(([template, item]) => ({ template, item, pattern: templatePattern(template), params: (template.match(/\{/g) ?? []).length }))
      .sort((a, b) => a.params - b.params || b.template.length - a.template.length);
    this.ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: false, unicodeRegExp: true });
    addFormats(this.ajv);
    const definitions = Object.fromEntries(Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => [name, toJsonSchema(schema, closed)]));
    this.ajv.addSchema({ $id: COMPONENTS, definitions });
    this.closed = closed;
  }

  /** The documented operation's path template for a request, or undefined when no documented path matches. */
  templateOf(path: string): string | undefined {
    return this.entryOf(path)?.template;
  }

  /**
   * Whether `method path` is a documented operation with valid path parameters (`/docs-json` has the
   * shape of 001's `/{userId}`, but is not a UUID, so it is no call of that operation).
   */
  isOperation(method: string, path: string): boolean {
    const entry = this.entryOf(path);
    const operation = entry && this.operationOf(entry, method.toLowerCase());
    if (!entry || !operation) return false;
    const values = entry.pattern.exec(path)!.slice(1);
    const names = [...entry.template.matchAll(/\{([^}]+)\}/g)].map(([, name]) => name);
    return names.every((name, index) => {
      const schema = operation.parameters?.find((parameter) => parameter.in === 'path' && parameter.name === name)?.schema;
      let value: string;
      try {
        value = decodeURIComponent(values[index]);
      } catch {
        return false;
      }
      return !schema || this.validatorFor(`${entry.template} path ${name}`, schema)(value);
    });
  }

  /** Undefined when the document describes the answer; else one line saying what does not match. */
  check(request: ContractRequest, response: ContractResponse): string | undefined {
    const path = request.path.split(/[?#]/)[0];
    const entry = this.entryOf(path);
    const method = request.method.toLowerCase();
    if (!entry)
      return `${request.method} ${path} → ${response.status}: no documented path matches (a request that is not an API operation must say so: { notAnOperation: true })`;
    const where = `${request.method} ${entry.template} → ${response.status}`;
    const operation = this.operationOf(entry, method);
    if (!operation) return this.checkMethodNotAllowed(where, entry, response);

    const key = [String(response.status), `${String(response.status)[0]}XX`, 'default'].find((candidate) => candidate in operation.responses);
    if (!key) return `${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`;
    const documented = operation.responses[key];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (header.required && !response.headers.has(name)) return `${where}: header ${name} is documented as required but missing`;
    }
    if (method === 'head') return undefined;
    return this.checkBody(where, `${method} ${entry.template} ${key}`, documented.content, response);
  }

  /** Why `value` does not match an OpenAPI `schema` of this document (its `$ref`s resolved), or undefined when it does. */
  mismatch(schema: Schema, value: unknown): string | undefined {
    const validate = this.validatorFor(JSON.stringify(schema), schema);
    if (validate(value)) return undefined;
    const [error] = validate.errors ?? [];
    return `${error?.instancePath || '(root)'} ${error?.message ?? 'does not match'}`;
  }

  private entryOf(path: string): PathEntry | undefined {
    return this.paths.find((entry) => entry.pattern.test(path));
  }

  private operationOf(entry: PathEntry, method: string): Operation | undefined {
    return entry.item[method] ?? (method === 'head' ? entry.item.get : undefined);
  }

  private checkMethodNotAllowed(where: string, entry: PathEntry, response: ContractResponse): string | undefined {
    const documented = METHODS.filter((method) => entry.item[method]).map((method) => method.toUpperCase());
    if (documented.includes('GET')) documented.push('HEAD');
    documented.sort();
    if (response.status !== 405) return `${where}: the method is not documented for this path (${documented.join(', ')}), so the answer must be 405`;
    const allow = (response.headers.get('allow') ?? '')
      .split(',')
      .map((method) => method.trim())
      .filter(Boolean);
    if (allow.sort().join(', ') !== documented.join(', '))
      return `${where}: Allow is "${allow.join(', ')}", the documented methods are ${documented.join(', ')}`;
    // The envelope of the path's other errors: the 400 every operation documents.
    const errors = Object.values(entry.item).find((operation) => operation.responses?.['400'])?.responses['400'];
    return this.checkBody(where, `${entry.template} 400`, errors?.content, response);
  }

  private checkBody(where: string, cacheKey: string, content: Record<string, { schema?: Schema }> | undefined, response: ContractResponse): string | undefined {
    if (!content || !Object.keys(content).length)
      return response.text === '' ? undefined : `${where}: the document says no body, the answer has one (${response.text.slice(0, 80)})`;
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const media = content[mediaType];
    if (!media) return `${where}: media type "${mediaType}" not documented (documented: ${Object.keys(content).join(', ')})`;
    if (!media.schema) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return `${where}: the body is not JSON (${response.text.slice(0, 80)})`;
    }
    const validate = this.validatorFor(`${cacheKey} ${mediaType}`, media.schema);
    if (validate(body)) return undefined;
    const [error] = validate.errors ?? [];
    const detail = error?.params && 'additionalProperty' in error.params ? ` "${String(error.params.additionalProperty)}"` : '';
    return `${where}: body${error?.instancePath || ''} ${error?.message ?? 'does not match'}${detail} (${response.text.slice(0, 120)})`;
  }

  private validatorFor(key: string, schema: Schema): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema, this.closed) as Schema);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** `/v1/me/sessions/{id}` → a RegExp over request paths (one segment per parameter, trailing slash optional). */
function templatePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('')
    .replace(/\/$/, '');
  return new RegExp(`^${source}/?$`);
}

/** An OpenAPI 3.0 schema object as JSON Schema draft-07: `nullable`, boolean `exclusiveMinimum`, component `$ref`s, annotations dropped. */
export function toJsonSchema(schema: Json, closed: boolean): Json {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, closed));
  if (schema === null || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') return { $ref: schema.$ref.replace('#/components/schemas/', `${COMPONENTS}#/definitions/`) };
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || key.startsWith('x-') || key === 'nullable') continue;
    if (key === 'properties' && value && typeof value === 'object' && !Array.isArray(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, toJsonSchema(property, closed)]));
    } else if (['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'].includes(key)) {
      out[key] = toJsonSchema(value, closed);
    } else {
      out[key] = value;
    }
  }
  // OpenAPI 3.0's boolean exclusiveMinimum/Maximum → draft-07's numeric ones.
  for (const [bound, exclusive] of [
    ['minimum', 'exclusiveMinimum'],
    ['maximum', 'exclusiveMaximum'],
  ]) {
    if (out[exclusive] === true) {
      out[exclusive] = out[bound];
      delete out[bound];
    } else if (out[exclusive] === false) {
      delete out[exclusive];
    }
  }
  if (closed && out.type === 'object' && out.properties && out.additionalProperties === undefined && !out.allOf && !out.anyOf && !out.oneOf)
    out.additionalProperties = false;
  if (schema.nullable === true) {
    // With a composition (`allOf: [$ref]`, a nested DTO), null must pass beside it, not inside it.
    if (typeof out.type === 'string' && !out.allOf && !out.anyOf && !out.oneOf) {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const contracts = new Map<string, Promise<OpenApiContract>>();

/** The contract of the app at `baseUrl`: its own `/docs-json`, fetched once per base URL. */
export function contractOf(baseUrl: string): Promise<OpenApiContract> {
  let contract = contracts.get(baseUrl);
  if (!contract) {
    contract = fetch(`${baseUrl}/docs-json`)
      .then(async (response) => {
        if (!response.ok) {
          throw new Error(
            `GET ${baseUrl}/docs-json → ${response.status}: the OpenAPI document could not be built (scripts/write-openapi.ts prints why) ${await response.text()}`,
          );
        }
        return new OpenApiContract((await response.json()) as OpenApiDocument);
      })
      .catch((error: unknown) => {
        contracts.delete(baseUrl);
        throw error;
      });
    contracts.set(baseUrl, contract);
  }
  return contract;
}
