import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { jupyterLabImageConfig, JUPYTERLAB_SERVER_ARGS } from "../../research/image";

// The Dockerfiles and the AppImageConfigs describe the same contract from two sides; they must agree.

const IMAGE = path.join(__dirname, "..", "..", "research", "image");
const read = (file: string) => fs.readFileSync(path.join(IMAGE, file), "utf8");

describe("research image", () => {
  it("serves JupyterLab with the same flags the AppImageConfig passes", () => {
    const dockerfile = read("Dockerfile");
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    assert.ok(cmd, "the Dockerfile has an exec-form CMD");
    assert.deepEqual(JSON.parse(cmd[1]), JUPYTERLAB_SERVER_ARGS);
    assert.match(dockerfile, /^ENTRYPOINT \["jupyter-lab"\]$/m);
    assert.deepEqual(jupyterLabImageConfig().containerConfig.containerEntrypoints, ["jupyter-lab"]);
  });

  it("runs Studio as 1000:100 and processing as root, from one Dockerfile", () => {
    const stages = read("Dockerfile")
      .split(/^FROM /m)
      .slice(1);
    const userOf = (name: string) => {
      const stage = stages.find((s) => s.split("\n")[0].endsWith(` AS ${name}`));
      assert.ok(stage, `stage ${name}`);
      return [...stage.matchAll(/^USER (\S+)$/gm)].pop()?.[1];
    };
    assert.equal(userOf("jupyterlab"), "1000:100");
    assert.equal(userOf("processing"), "0:0");
    assert.ok(
      stages[stages.length - 1].startsWith("pegasus AS jupyterlab"),
      "the default target is the Studio image",
    );
  });

  it("installs Pegasus from the pinned requirements into its own environment, registered as a kernel", () => {
    const dockerfile = read("Dockerfile");
    assert.match(dockerfile, /micromamba create --yes --name pegasus/);
    assert.match(dockerfile, /pip install --no-cache-dir -r \/tmp\/pegasus-requirements\.txt/);
    assert.match(dockerfile, /ipykernel install --prefix \/opt\/conda\s+\\?\s*--name pegasus/);
    const pins = read("requirements.txt")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"));
    for (const line of pins) assert.match(line, /^[A-Za-z0-9_.-]+==[\w.]+$/, `unpinned requirement: ${line}`);
    assert.ok(pins.includes("pegasuspy==1.10.2"));
    assert.ok(pins.some((l) => l.startsWith("ipykernel==")));
  });

  it("has no Studio Classic Dockerfile: the domain is new, and new domains cannot run KernelGateway apps", () => {
    assert.deepEqual(
      fs.readdirSync(IMAGE).filter((f) => f.startsWith("Dockerfile")),
      ["Dockerfile"],
    );
  });
});
