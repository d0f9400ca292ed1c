import fastJson from 'fast-json-stringify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;
type Serialize = (data: unknown) => string;

/** Keywords that only describe or constrain values: they change nothing in what is written. */
const annotations = new Set([
  '$schema',
  'id',
  'title',
  'description',
  'example',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  // `format` is dropped on purpose: fast-json-stringify writes date-time strings unescaped.
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
]);

const isTypeList = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && v.includes('null') && v.every((t) => typeof t === 'string');

const isObject = (v: unknown): v is JsonSchema =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The subset of JSON Schema that fast-json-stringify writes exactly as `JSON.stringify` writes
 * the value zod's encoder returns: typed scalars, enums, closed objects, arrays, and the
 * `anyOf [X, null]` of `.nullable()` (folded into `type: [X, 'null']`, which it serializes
 * without running a validator per value). Anything else: undefined, and zod serializes.
 */
export function plainSchema(schema: unknown): JsonSchema | undefined {
  if (!isObject(schema)) return undefined;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (annotations.has(key)) continue;
    switch (key) {
      case 'type':
        if (typeof value !== 'string' && !isTypeList(value)) return undefined;
        out.type = value;
        break;
      case 'enum':
      case 'const':
      case 'required':
        out[key] = value;
        break;
      case 'additionalProperties':
        // A closed object: unknown keys are dropped, as zod strips them.
        if (value !== false) return undefined;
        out.additionalProperties = false;
        break;
      case 'properties': {
        if (!isObject(value)) return undefined;
        const properties: JsonSchema = {};
        for (const [name, property] of Object.entries(value)) {
          const plain = plainSchema(property);
          if (!plain) return undefined;
          properties[name] = plain;
        }
        out.properties = properties;
        break;
      }
      case 'items': {
        const plain = plainSchema(value);
        if (!plain) return undefined;
        out.items = plain;
        break;
      }
      case 'anyOf': {
        const nullable = nullableOf(value);
        if (!nullable) return undefined;
        Object.assign(out, nullable);
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

function nullableOf(branches: unknown): JsonSchema | undefined {
  if (!Array.isArray(branches) || branches.length !== 2) return undefined;
  const nullIndex = branches.findIndex((b) => isObject(b) && b.type === 'null');
  if (nullIndex < 0) return undefined;
  const other = plainSchema(branches[1 - nullIndex]);
  if (!other || typeof other.type !== 'string' || other.const !== undefined) return undefined;
  const { enum: _values, ...rest } = other;
  return { ...rest, type: [other.type, 'null'] };
}

/** Without the ids the global registry gives some schemas, so everything is inline. */
const noMetadata = z.registry<Record<string, unknown>>();

function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema | undefined {
  try {
    return plainSchema(
      z.toJSONSchema(schema, {
        io,
        unrepresentable: 'throw',
        cycles: 'throw',
        metadata: noMetadata,
      }),
    );
  } catch {
    return undefined;
  }
}

const withoutClosedness = (schema: JsonSchema) =>
  JSON.stringify(schema, (key, value) => (key === 'additionalProperties' ? undefined : value));

/**
 * A fast-json-stringify schema for a response schema, or undefined when zod must serialize it.
 * zod's encoder writes the schema's INPUT side (a codec, a default or a transform makes it
 * differ from the output side), so only schemas whose two sides agree are taken.
 */
export function fastSchemaOf(schema: z.ZodType): JsonSchema | undefined {
  const output = toJson(schema, 'output');
  const input = toJson(schema, 'input');
  if (!output || !input) return undefined;
  return withoutClosedness(output) === withoutClosedness(input) ? output : undefined;
}

const compiled = new WeakMap<z.ZodType, Serialize | null>();

function fastSerializer(schema: z.ZodType): Serialize | null {
  let serialize = compiled.get(schema);
  if (serialize === undefined) {
    const json = fastSchemaOf(schema);
    serialize = json ? (fastJson(json) as Serialize) : null;
    compiled.set(schema, serialize);
  }
  return serialize;
}

/**
 * Response serialization. zod's compiler re-validates and re-builds every response with its
 * encoder before `JSON.stringify` (for a page of 100 tasks, most of the route's CPU); here a
 * schema that fast-json-stringify can write byte for byte the same is compiled once (lazily:
 * on the first response it serializes) and writes the declared properties only, so columns
 * absent from a schema still cannot leak. The trade: a service bug returning a value outside
 * its schema (a wrong enum value) is written instead of failing with a 500. Other schemas
 * keep zod's serializer.
 */
export const serializerCompiler: typeof zodSerializerCompiler = (routeSchema) => {
  const schema = routeSchema.schema;
  if (!(schema instanceof z.ZodType)) return zodSerializerCompiler(routeSchema);
  let chosen: Serialize | undefined;
  return (data) => {
    if (chosen === undefined) chosen = fastSerializer(schema) ?? zodSerializerCompiler(routeSchema);
    return chosen(data);
  };
};
