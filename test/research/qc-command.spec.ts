import { strict as assert } from "assert";
import {
  DescribePipelineExecutionCommand,
  ListPipelineExecutionStepsCommand,
  StartPipelineExecutionCommand,
} from "@aws-sdk/client-sagemaker";
import {
  parseQcArgs,
  QcStackOutputs,
  QcUsageError,
  readStackOutputs,
  runQc,
  SageMakerSend,
} from "../../research/processing/run-qc";

// `npm run qc`: argument and stack-output errors, and the follow loop against an injected client
// that plays back a pipeline execution the way SageMaker reports it.

const OUTPUTS: QcStackOutputs = {
  region: "us-east-1",
  bucket: "fieldnotes-research-444444444444-use1",
  outputPrefix: "s3://fieldnotes-research-444444444444-use1/pegasus/output/",
  pipelineName: "fieldnotes-research-pegasus-qc",
};
const INPUT = "s3://fieldnotes-research-444444444444-use1/pegasus/input/heart_1k_v2.h5";
const EXECUTION =
  "arn:aws:sagemaker:us-east-1:444444444444:pipeline/fieldnotes-research-pegasus-qc/execution/abc123";

type Step = { StepName: string; StepStatus: string; FailureReason?: string; Metadata?: unknown };

/** A fake SageMaker client: each poll returns the next (execution status, step) pair. */
function playback(timeline: [string, Step?, string?][]) {
  const sent: unknown[] = [];
  let polls = 0;
  const client: SageMakerSend = {
    send: (async (command: unknown) => {
      sent.push(command);
      if (command instanceof StartPipelineExecutionCommand) return { PipelineExecutionArn: EXECUTION };
      const [status, step, reason] = timeline[Math.min(polls, timeline.length - 1)];
      if (command instanceof DescribePipelineExecutionCommand) {
        return { PipelineExecutionStatus: status, FailureReason: reason };
      }
      if (command instanceof ListPipelineExecutionStepsCommand) {
        polls++;
        return { PipelineExecutionSteps: step ? [step] : [] };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    }) as SageMakerSend["send"],
  };
  return { client, sent };
}

function deps(client: SageMakerSend) {
  const lines: string[] = [];
  let clock = Date.parse("2026-11-25T10:00:00Z");
  return {
    lines,
    deps: {
      client,
      log: (line: string) => lines.push(line),
      sleep: async (ms: number) => void (clock += ms),
      now: () => new Date(clock),
    },
  };
}

/** The parsed arguments of a run (not --help). */
function qcArgs(argv: string[]) {
  const args = parseQcArgs(argv);
  assert.ok(args, "--help was not given");
  return args;
}

describe("npm run qc", () => {
  describe("arguments", () => {
    it("needs --stack and --input", () => {
      assert.throws(() => qcArgs(["--input", INPUT]), /--stack is required/);
      assert.throws(() => qcArgs(["--stack", "research"]), /--input is required/);
    });
    it("needs an explicit --mito-prefix: the organism decides it (mt- mouse, MT- human)", () => {
      assert.throws(
        () => qcArgs(["--stack", "r", "--input", INPUT]),
        /--mito-prefix is required: mt- for mouse, MT- for human, or none to skip the mito filter/,
      );
    });
    it("names a bad S3 URI, an unknown flag, a missing value and a bad threshold", () => {
      assert.throws(
        () => qcArgs(["--stack", "r", "--input", "/tmp/heart.h5"]),
        /--input "\/tmp\/heart.h5" is not an S3 URI/,
      );
      assert.throws(
        () => qcArgs(["--stack", "r", "--input", INPUT, "--bucket", "x"]),
        /unknown flag "--bucket"/,
      );
      assert.throws(() => qcArgs(["--stack", "r", "--input"]), /--input needs a value/);
      assert.throws(
        () => qcArgs(["--stack", "r", "--input", INPUT, "--min-genes", "many", "--mito-prefix", "mt-"]),
        /--min-genes "many" must be a non-negative integer or "none"/,
      );
      assert.throws(
        () => qcArgs(["--stack", "r", "--input", INPUT, "--percent-mito", "120", "--mito-prefix", "mt-"]),
        /--percent-mito "120" must be a percentage/,
      );
    });
    it("maps threshold flags to pipeline parameters", () => {
      const args = qcArgs([
        "--stack=research",
        "--input",
        INPUT,
        "--mito-prefix",
        "mt-",
        "--max-umis",
        "none",
      ]);
      assert.deepEqual(args.thresholds, { MitoPrefix: "mt-", MaxUmis: "none" });
      const noMito = qcArgs(["--stack", "r", "--input", INPUT, "--mito-prefix", "none"]);
      assert.deepEqual(noMito.thresholds, { MitoPrefix: "none", PercentMito: "none" });
      assert.equal(args.stack, "research");
    });
  });

  describe("stack outputs", () => {
    const json = (o: unknown) => () => JSON.stringify(o);
    it("says so when the Pulumi CLI is missing", () => {
      const missing = () => {
        throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
      };
      assert.throws(() => readStackOutputs("research", missing), /the Pulumi CLI is not installed/);
    });
    it("names the stack and the missing output", () => {
      assert.throws(
        () => readStackOutputs("dev", json({ messaging: {} })),
        /stack dev has no output "research"/,
      );
      assert.throws(
        () => readStackOutputs("research", json({ research: { ...OUTPUTS, pipelineName: undefined } })),
        /stack research has no output research.pipelineName/,
      );
    });
    it("reads the research outputs and asks for the right stack", () => {
      let asked: string[] = [];
      const out = readStackOutputs(
        "research",
        (_file, args) => ((asked = args), JSON.stringify({ research: { ...OUTPUTS, domainId: "d-1" } })),
      );
      assert.deepEqual(out, OUTPUTS);
      assert.deepEqual(asked, ["stack", "output", "--json", "--stack", "research"]);
    });
  });

  describe("following an execution", () => {
    it("starts the pipeline with the input and a fresh output prefix, and prints the CSV location", async () => {
      const { client, sent } = playback([
        ["Executing", { StepName: "PegasusQC", StepStatus: "Starting" }],
        ["Executing", { StepName: "PegasusQC", StepStatus: "Executing" }],
        ["Executing", { StepName: "PegasusQC", StepStatus: "Executing" }],
        ["Succeeded", { StepName: "PegasusQC", StepStatus: "Succeeded" }],
      ]);
      const { lines, deps: d } = deps(client);
      const result = await runQc(
        qcArgs(["--stack", "r", "--input", INPUT, "--mito-prefix", "mt-", "--poll-seconds", "10"]),
        OUTPUTS,
        d,
      );
      const start = sent[0] as StartPipelineExecutionCommand;
      assert.equal(start.input.PipelineName, OUTPUTS.pipelineName);
      const token = start.input.ClientRequestToken!;
      assert.ok(
        token.length >= 32 && token.length <= 128,
        `ClientRequestToken is 32-128 characters: ${token}`,
      );
      assert.match(start.input.PipelineExecutionDisplayName!, /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$/);
      const params = Object.fromEntries(start.input.PipelineParameters!.map((p) => [p.Name, p.Value]));
      assert.equal(params.InputS3Uri, INPUT);
      assert.equal(params.OutputS3Uri, `${OUTPUTS.outputPrefix}20261125T100000/`);
      assert.equal(params.MitoPrefix, "mt-");
      assert.equal(result.status, "Succeeded");
      assert.equal(result.csvUri, `${OUTPUTS.outputPrefix}20261125T100000/qc_metrics.csv`);
      assert.deepEqual(lines.slice(1), [
        "[0s] Executing (step PegasusQC: Starting)",
        "[10s] Executing (step PegasusQC: Executing)",
        "[30s] Succeeded (step PegasusQC: Succeeded)",
        `QC finished after 30s: ${result.csvUri}`,
      ]);
    });

    it("reports the failing step's reason", async () => {
      const reason =
        "ClientError: AlgorithmError: qc_metrics: error: cannot read heart.h5 as single-cell data";
      const { client } = playback([
        ["Executing", { StepName: "PegasusQC", StepStatus: "Executing" }],
        [
          "Failed",
          {
            StepName: "PegasusQC",
            StepStatus: "Failed",
            FailureReason: reason,
            Metadata: { ProcessingJob: { Arn: "arn:job" } },
          },
          "Step failed",
        ],
      ]);
      const { lines, deps: d } = deps(client);
      const result = await runQc(
        qcArgs(["--stack", "r", "--input", INPUT, "--mito-prefix", "mt-"]),
        OUTPUTS,
        d,
      );
      assert.equal(result.status, "Failed");
      assert.equal(result.failureReason, reason);
      assert.ok(
        lines.some(
          (l) => l.startsWith(`QC failed after 15s: ${reason}`) && l.includes("processing job arn:job"),
        ),
        lines.join("\n"),
      );
    });

    it("refuses an input outside the research bucket before starting anything", async () => {
      const { client, sent } = playback([["Succeeded"]]);
      await assert.rejects(
        runQc(
          qcArgs(["--stack", "r", "--input", "s3://someone-elses-bucket/heart.h5", "--mito-prefix", "mt-"]),
          OUTPUTS,
          deps(client).deps,
        ),
        (err: Error) =>
          err instanceof QcUsageError &&
          /may read only the research bucket "fieldnotes-research-444444444444-use1"/.test(err.message),
      );
      assert.equal(sent.length, 0);
    });
  });
});
