// Checks an API request against the shapes botocore's service models give it (the generated fixture
// test/research/fixtures/api-shapes.json; research/api-models/generate-api-shapes.py rewrites it).
// botocore itself checks only types, required members and minimum lengths on the client; AWS refuses
// a request that breaks a maximum, a pattern or an enum with a ValidationException naming the member,
// which quotes the pattern anchored ("...must satisfy regular expression pattern: ^[a-zA-Z0-9]..."), so
// patterns match the whole value here too. The same rules as test/requests/api_model.py, for npm test.
import * as fs from "fs";
import * as path from "path";

interface ShapeDef {
  type: string;
  members?: Record<string, string>;
  required?: string[];
  member?: string;
  key?: string;
  value?: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

interface ServiceShapes {
  operations: Record<string, string>;
  shapes: Record<string, ShapeDef>;
}

const FIXTURE = path.join(__dirname, "..", "research", "fixtures", "api-shapes.json");
const models: { botocore: string; services: Record<string, ServiceShapes> } = JSON.parse(
  fs.readFileSync(FIXTURE, "utf8"),
);

export const BOTOCORE_VERSION = models.botocore;

const compiled = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    // Java-style classes such as \p{L} need the unicode flag.
    re = new RegExp(`^(?:${pattern})$`, "u");
    compiled.set(pattern, re);
  }
  return re;
}

/** Every way `request` breaks `service`.`operation`'s input shape, one line each; empty when valid. */
export function violations(service: string, operation: string, request: unknown): string[] {
  const model = models.services[service];
  if (!model) throw new Error(`no ${service} model in the fixture; add it to generate-api-shapes.py`);
  const shape = model.operations[operation];
  if (!shape) throw new Error(`no ${service} ${operation} in the fixture; add it to generate-api-shapes.py`);
  const found: string[] = [];
  check(model, shape, request, operation, found);
  return found;
}

/** The same for a value of a named shape (e.g. a pipeline step's Arguments). */
export function shapeViolations(service: string, shapeName: string, value: unknown, at: string): string[] {
  const found: string[] = [];
  check(models.services[service], shapeName, value, at, found);
  return found;
}

function check(model: ServiceShapes, name: string, value: unknown, at: string, found: string[]): void {
  const shape = model.shapes[name];
  const bad = (rule: string): void =>
    void found.push(`${at}: ${rule} (value ${JSON.stringify(value)?.slice(0, 120)})`);
  const length = (size: number, unit: string) => {
    if (shape.min !== undefined && size < shape.min) bad(`must have at least ${shape.min} ${unit}`);
    if (shape.max !== undefined && size > shape.max) bad(`must have at most ${shape.max} ${unit}`);
  };
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return bad(`must be an object (${name})`);
      const obj = value as Record<string, unknown>;
      for (const r of shape.required ?? []) if (obj[r] === undefined) found.push(`${at}.${r}: is required`);
      for (const [k, v] of Object.entries(obj)) {
        if (v === undefined) continue;
        const member = shape.members?.[k];
        if (!member) found.push(`${at}.${k}: is not a member of ${name}`);
        else check(model, member, v, `${at}.${k}`, found);
      }
      return;
    }
    case "list":
      if (!Array.isArray(value)) return bad("must be a list");
      length(value.length, "items");
      value.forEach((item, i) => check(model, shape.member!, item, `${at}[${i}]`, found));
      return;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return bad("must be a map");
      length(Object.keys(value).length, "entries");
      for (const [k, v] of Object.entries(value)) {
        check(model, shape.key!, k, `${at}{key ${k}}`, found);
        check(model, shape.value!, v, `${at}[${k}]`, found);
      }
      return;
    case "string":
      if (typeof value !== "string") return bad("must be a string");
      length([...value].length, "characters");
      if (shape.enum && !shape.enum.includes(value)) bad(`must be one of ${shape.enum.join(", ")}`);
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value))
        bad(`must match ${shape.pattern}`);
      return;
    case "integer":
    case "long":
    case "float":
    case "double":
      if (typeof value !== "number") return bad(`must be a number (${shape.type})`);
      if ((shape.type === "integer" || shape.type === "long") && !Number.isInteger(value))
        bad("must be whole");
      if (shape.min !== undefined && value < shape.min) bad(`must be at least ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) bad(`must be at most ${shape.max}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") bad("must be true or false");
      return;
    default:
      // timestamp, blob, document: nothing the research requests send or the model bounds here.
      return;
  }
}
