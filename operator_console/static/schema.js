// JSON Schema, the parts an operator's form needs: following local $refs,
// telling what kind of control a schema wants, and checking a value before it
// is sent. The server validates again with a full validator; this is for
// messages the operator can act on at once, next to the field at fault.

const MAX_REFS = 32;

function pointer(root, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
  const parts = ref.slice(1).split("/").slice(1)
    .map((p) => decodeURIComponent(p).replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = root;
  for (const part of parts) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `schema` with local $refs followed and allOf members merged into it. */
export function resolve(schema, root) {
  let s = schema === true || schema === undefined || schema === null ? {} : schema;
  for (let i = 0; i < MAX_REFS && isObject(s); i++) {
    if (typeof s.$ref === "string") {
      const { $ref, ...siblings } = s;
      const target = pointer(root, $ref);
      s = { ...(isObject(target) ? target : {}), ...siblings };
      continue;
    }
    if (Array.isArray(s.allOf) && s.allOf.length > 0) {
      const { allOf, ...rest } = s;
      let merged = { ...rest };
      for (const member of allOf) {
        const part = resolve(member, root);
        if (!isObject(part)) continue;
        const properties = { ...(merged.properties || {}), ...(part.properties || {}) };
        const required = [...(merged.required || []), ...(part.required || [])];
        merged = { ...part, ...merged, properties, required };
        if (!Object.keys(properties).length) delete merged.properties;
        if (!required.length) delete merged.required;
      }
      s = merged;
      continue;
    }
    break;
  }
  return isObject(s) ? s : s === false ? false : {};
}

function typesOf(s) {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === "string") return [s.type];
  return [];
}

function isNullSchema(s, root) {
  const r = resolve(s, root);
  return isObject(r) && (r.type === "null" || (Array.isArray(r.enum) && r.enum.length === 1 && r.enum[0] === null) || r.const === null);
}

/**
 * What a schema asks for: {kind, nullable, schema, variants}.
 * kind is one of object, array, string, number, integer, boolean, enum, const,
 * union (several shapes), null, any (free JSON).
 */
export function describe(schema, root) {
  let s = resolve(schema, root);
  if (s === false) return { kind: "any", nullable: false, schema: {} };
  let nullable = false;
  const alternatives = s.anyOf || s.oneOf;
  if (Array.isArray(alternatives) && !s.properties && !s.type) {
    const real = alternatives.filter((v) => !isNullSchema(v, root));
    nullable = real.length < alternatives.length;
    if (real.length === 1) {
      const { anyOf, oneOf, ...outer } = s;
      const inner = describe(real[0], root);
      return {
        ...inner,
        nullable: nullable || inner.nullable,
        schema: { ...inner.schema, ...pick(outer, ["title", "description", "default"]) },
      };
    }
    if (real.length === 0) return { kind: "null", nullable: true, schema: s };
    return { kind: "union", nullable, schema: s, variants: real.map((v) => resolve(v, root)) };
  }
  if (s.const !== undefined) return { kind: "const", nullable: false, schema: s };
  const types = typesOf(s);
  nullable = types.includes("null");
  if (Array.isArray(s.enum)) {
    const values = s.enum.filter((v) => v !== null);
    return {
      kind: "enum",
      nullable: nullable || values.length < s.enum.length,
      schema: { ...s, enum: values },
    };
  }
  const real = types.filter((t) => t !== "null");
  if (real.length === 1) return { kind: real[0], nullable, schema: s };
  if (real.length === 0 && types.length) return { kind: "null", nullable: true, schema: s };
  if (real.length > 1) {
    const variants = real.map((t) => ({ ...s, type: t }));
    return { kind: "union", nullable, schema: s, variants };
  }
  if (s.properties) return { kind: "object", nullable, schema: s };
  if (s.items) return { kind: "array", nullable, schema: s };
  return { kind: "any", nullable, schema: s };
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** A short name for a schema, for variant pickers. */
export function schemaLabel(schema, root) {
  const d = describe(schema, root);
  return d.schema.title || (d.kind === "enum" ? "choice" : d.kind);
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

function typeMatches(type, value) {
  switch (type) {
    case "null": return value === null;
    case "boolean": return typeof value === "boolean";
    case "string": return typeof value === "string";
    case "integer": return typeof value === "number" && Number.isInteger(value);
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "array": return Array.isArray(value);
    case "object": return isObject(value);
    default: return true;
  }
}

function jsonType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  return typeof value;
}

/** Display form of a path such as ["addr", "tags", 2] -> "addr.tags[2]". */
export function pathText(path) {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

/**
 * Problems with `value` under `schema`, as [{path, message}]. Not a full
 * validator (no formats, no remote refs), but the common keywords.
 */
export function validate(schema, root, value, path = [], errors = [], depth = 0) {
  if (depth > 64) return errors;
  const s = resolve(schema, root);
  const fail = (message) => errors.push({ path, message });
  if (s === false) {
    fail("is not allowed here");
    return errors;
  }
  if (s.const !== undefined && !deepEqual(s.const, value)) fail(`must be ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((v) => deepEqual(v, value))) {
    fail(`must be one of ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  const types = typesOf(s);
  if (types.length && !types.some((t) => typeMatches(t, value))) {
    fail(`must be ${types.join(" or ")}, not ${jsonType(value)}`);
    return errors;
  }
  for (const key of ["anyOf", "oneOf"]) {
    if (!Array.isArray(s[key])) continue;
    const results = s[key].map((v) => validate(v, root, value, path, [], depth + 1));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing === 0) {
      const real = s[key].filter((v) => !isNullSchema(v, root));
      if (real.length === 1 && value !== null) errors.push(...validate(real[0], root, value, path, [], depth + 1));
      else fail("does not match any of the allowed shapes");
    } else if (key === "oneOf" && passing > 1) fail("matches more than one allowed shape");
  }
  if (Array.isArray(s.allOf)) for (const member of s.allOf) validate(member, root, value, path, errors, depth + 1);
  if (isObject(value)) validateObject(s, root, value, path, errors, depth);
  if (Array.isArray(value)) validateArray(s, root, value, path, errors, depth);
  if (typeof value === "string") validateString(s, value, fail);
  if (typeof value === "number") validateNumber(s, value, fail);
  return errors;
}

function validateObject(s, root, value, path, errors, depth) {
  const properties = isObject(s.properties) ? s.properties : {};
  for (const key of Array.isArray(s.required) ? s.required : []) {
    if (!Object.hasOwn(value, key)) errors.push({ path: [...path, key], message: "is required" });
  }
  for (const [key, item] of Object.entries(value)) {
    if (Object.hasOwn(properties, key)) {
      validate(properties[key], root, item, [...path, key], errors, depth + 1);
    } else if (s.additionalProperties === false) {
      errors.push({ path: [...path, key], message: "is not an allowed field" });
    } else if (isObject(s.additionalProperties)) {
      validate(s.additionalProperties, root, item, [...path, key], errors, depth + 1);
    }
  }
  const count = Object.keys(value).length;
  if (s.minProperties !== undefined && count < s.minProperties) errors.push({ path, message: `needs at least ${s.minProperties} fields` });
  if (s.maxProperties !== undefined && count > s.maxProperties) errors.push({ path, message: `allows at most ${s.maxProperties} fields` });
}

function validateArray(s, root, value, path, errors, depth) {
  if (s.minItems !== undefined && value.length < s.minItems) errors.push({ path, message: `needs at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}` });
  if (s.maxItems !== undefined && value.length > s.maxItems) errors.push({ path, message: `allows at most ${s.maxItems} item${s.maxItems === 1 ? "" : "s"}` });
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
  value.forEach((item, i) => {
    const itemSchema = i < prefix.length ? prefix[i] : s.items;
    if (itemSchema !== undefined) validate(itemSchema, root, item, [...path, i], errors, depth + 1);
  });
  if (s.uniqueItems) {
    for (let i = 1; i < value.length; i++) {
      if (value.slice(0, i).some((v) => deepEqual(v, value[i]))) {
        errors.push({ path: [...path, i], message: "repeats an earlier item" });
      }
    }
  }
}

function validateString(s, value, fail) {
  const length = [...value].length;
  if (s.minLength !== undefined && length < s.minLength) fail(s.minLength === 1 ? "must not be empty" : `needs at least ${s.minLength} characters`);
  if (s.maxLength !== undefined && length > s.maxLength) fail(`allows at most ${s.maxLength} characters`);
  if (typeof s.pattern === "string") {
    let re = null;
    try {
      re = new RegExp(s.pattern, "u");
    } catch {
      re = null; // a pattern JavaScript cannot read is left to the server
    }
    if (re && !re.test(value)) fail(`must match the pattern ${s.pattern}`);
  }
}

function validateNumber(s, value, fail) {
  if (typeof s.minimum === "number" && value < s.minimum) fail(`must be at least ${s.minimum}`);
  if (typeof s.maximum === "number" && value > s.maximum) fail(`must be at most ${s.maximum}`);
  if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) fail(`must be more than ${s.exclusiveMinimum}`);
  if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum) fail(`must be less than ${s.exclusiveMaximum}`);
  if (typeof s.multipleOf === "number" && s.multipleOf > 0) {
    const ratio = value / s.multipleOf;
    if (Math.abs(ratio - Math.round(ratio)) > 1e-9) fail(`must be a multiple of ${s.multipleOf}`);
  }
}
