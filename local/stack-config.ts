// Reads a stack's configuration the way the Pulumi CLI would hand it to the program: project-level
// `config:` from Pulumi.yaml, overlaid by the stack file's `config:`, flattened into the
// `{"<namespace>:<key>": string}` map that `pulumi.runtime.setAllConfig` takes. There is no Pulumi
// CLI on the machines local mode targets, so this is what lets the real program run under mocks.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** The repository root: where Pulumi.yaml and the stack files live. */
export const projectRoot = path.resolve(__dirname, "..");

export interface StackConfig {
  /** The project name from Pulumi.yaml; the namespace of keys written without one. */
  project: string;
  stack: string;
  /** Flat config, values as strings (objects and arrays as JSON), as `setAllConfig` expects. */
  config: Record<string, string>;
  /** Keys whose stack-file value was `secure:`; local mode cannot decrypt them (see docs/local-mode.md). */
  secretKeys: string[];
}

/** Stack names that have a `Pulumi.<stack>.yaml` in `root`, sorted. */
export function listStacks(root = projectRoot): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Loads the merged configuration of `stack`; stack-file values win over project-level ones. */
export function loadStackConfig(stack: string, root = projectRoot): StackConfig {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
    throw new Error(`stack name "${stack}" is not valid: use letters, digits, "-", "_" or "."`);
  }
  const projectFile = path.join(root, "Pulumi.yaml");
  const projectDoc = readYaml(projectFile);
  const project = projectDoc?.name;
  if (typeof project !== "string" || project === "") {
    throw new Error(`${projectFile}: "name" must be the project name, got ${JSON.stringify(project)}`);
  }

  const stackFile = ["yaml", "yml"]
    .map((ext) => path.join(root, `Pulumi.${stack}.${ext}`))
    .find(fs.existsSync);
  if (stackFile === undefined) {
    const available = listStacks(root);
    throw new Error(
      `stack "${stack}": no file Pulumi.${stack}.yaml in ${root}. ` +
        `Available stacks: ${available.length ? available.join(", ") : "(none)"}`,
    );
  }
  const stackDoc = readYaml(stackFile) ?? {};

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, entry] of Object.entries(configSection(projectDoc, projectFile))) {
    const value = projectValue(entry);
    if (value !== undefined) config[qualify(rawKey, project)] = stringify(value);
  }
  for (const [rawKey, value] of Object.entries(configSection(stackDoc, stackFile))) {
    const key = qualify(rawKey, project);
    if (isPlainObject(value) && Object.keys(value).length === 1 && typeof value.secure === "string") {
      // Ciphertext needs the stack's secrets provider, which needs the Pulumi CLI: a visible
      // placeholder keeps the program running and shows where a real secret would go.
      config[key] = `<secret ${key}>`;
      secretKeys.push(key);
      continue;
    }
    if (value === null || value === undefined) continue;
    config[key] = stringify(value);
  }
  return { project, stack, config, secretKeys };
}

/**
 * Applies overrides (e.g. a test injecting bad config). Keys without a namespace belong to the
 * project; a `null` value removes the key.
 */
export function applyOverrides(
  base: Record<string, string>,
  project: string,
  overrides: Record<string, string | null> = {},
): Record<string, string> {
  const merged = { ...base };
  for (const [rawKey, value] of Object.entries(overrides)) {
    const key = qualify(rawKey, project);
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function readYaml(file: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return null;
  if (!isPlainObject(doc)) throw new Error(`${file}: the document must be a mapping, got ${typeof doc}`);
  return doc;
}

function configSection(doc: Record<string, unknown> | null, file: string): Record<string, unknown> {
  const section = doc?.config;
  if (section === undefined || section === null) return {};
  if (!isPlainObject(section)) throw new Error(`${file}: "config" must be a mapping of key: value`);
  return section;
}

const projectEntryFields = new Set(["type", "description", "default", "value", "secret", "items"]);

// Pulumi.yaml entries are either `key: value` or `key: {value: …}` / `key: {type, default, …}`.
function projectValue(entry: unknown): unknown {
  if (isPlainObject(entry)) {
    const fields = Object.keys(entry);
    if (fields.length > 0 && fields.every((f) => projectEntryFields.has(f))) {
      return "value" in entry ? entry.value : entry.default;
    }
  }
  return entry;
}

function qualify(key: string, project: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function stringify(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
