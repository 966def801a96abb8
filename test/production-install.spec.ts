import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

// `pulumi up` compiles index.ts with the program's own ts-node and TypeScript, and falls back to its
// bundled TypeScript 3.8 (which cannot compile this program) when they are not installed. Before they
// were dependencies, a production install had them only as optional peers of @pulumi/pulumi
// ("devOptional" in the lock file): kept by this npm's `npm ci --omit=dev`, dropped by
// `--omit=optional`, by older npm and by package managers that skip optional peers. So they must be
// plain dependencies, which every production install keeps. test/prod-install/check.sh (in .ci/run)
// does such an install and compiles the program with it.

const root = path.join(__dirname, "..");
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));

/** What `pulumi up` loads besides the program's imports: the compiler and its Node types. */
const PULUMI_UP_NEEDS = ["typescript", "ts-node", "@types/node"];

describe("a production install has what pulumi up needs", () => {
  it("typescript, ts-node and @types/node are dependencies, not devDependencies", () => {
    const pkg = read("package.json");
    for (const name of PULUMI_UP_NEEDS) {
      assert.ok(pkg.dependencies?.[name], `${name} is not in dependencies`);
      assert.equal(pkg.devDependencies?.[name], undefined, `${name} is also a devDependency`);
    }
  });

  it("the lock file installs them in every production install (neither dev nor optional)", () => {
    const lock = read("package-lock.json");
    for (const name of PULUMI_UP_NEEDS) {
      const entry = lock.packages[`node_modules/${name}`];
      assert.ok(entry, `${name} is not in package-lock.json`);
      for (const flag of ["dev", "devOptional", "optional"])
        assert.notEqual(entry[flag], true, `${name} is marked ${flag} in package-lock.json`);
    }
    assert.ok(Number(lock.packages["node_modules/typescript"].version.split(".")[0]) >= 5);
  });
});
