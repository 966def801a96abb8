// Placeholder interface so index.ts compiles while the research part is built; replaced by the
// research engineer with the real component (see research issue).
import * as pulumi from "@pulumi/pulumi";

export interface ResearchSettings {
  account: string;
  region: string;
}

/** Reads and validates the research config of this stack; throws naming the key and value. */
export function loadResearchSettings(_config: pulumi.Config): ResearchSettings {
  throw new Error("research part is not built yet");
}

export class ResearchEnvironment extends pulumi.ComponentResource {
  public readonly outputs: Record<string, pulumi.Output<unknown>> = {};
  constructor(name: string, _args: ResearchSettings, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:ResearchEnvironment", name, {}, opts);
    this.registerOutputs({});
  }
}
