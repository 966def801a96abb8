// `npm run qc -- --stack NAME --input s3://...`: starts the research stack's QC pipeline on one
// sample, follows it until it ends, and prints where qc_metrics.csv landed, or why the step failed.
// Everything it needs comes from the stack outputs (`pulumi stack output --json`), nothing typed twice.
import {
  DescribePipelineExecutionCommand,
  ListPipelineExecutionStepsCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
} from "@aws-sdk/client-sagemaker";
import { randomUUID } from "crypto";
import { failed, integerFlag, readFlags, UsageError } from "../../common/args";
import { Exec, readPulumiOutputs } from "../../common/stack-outputs";
import { QC_STEP_NAME, QcParameters } from "../pipeline-contract";

export const USAGE = `usage: npm run qc -- --stack NAME --input s3://BUCKET/KEY --mito-prefix P|none [options]
  --stack NAME           the Pulumi stack that deployed the research part
  --input S3_URI         the sample (a file, or a prefix holding exactly one sample) in the research bucket
  --mito-prefix P | none mitochondrial gene prefix of the sample's organism: mt- (mouse), MT- (human);
                         required, because the wrong one makes the QC step fail (no gene matches it)
  --output S3_URI        where qc_metrics.csv goes (default: the stack's outputPrefix + a run id)
  --min-genes N | none   --max-genes N | none   --min-umis N | none   --max-umis N | none
  --percent-mito F | none   (defaults: the pipeline's, from the stack config)
  --poll-seconds N       status poll interval (default 15)
  -h, --help             this text`;

/** A mistake in the command line or in the stack it names: exit status 2. */
export class QcUsageError extends UsageError {}

export interface QcArgs {
  stack: string;
  input: string;
  output?: string;
  /** Pipeline parameter name → value, only for the thresholds given on the command line. */
  thresholds: Record<string, string>;
  pollSeconds: number;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/;
const THRESHOLD_FLAGS: Record<string, { param: string; kind: "int" | "float" | "prefix" }> = {
  "--min-genes": { param: QcParameters.minGenes, kind: "int" },
  "--max-genes": { param: QcParameters.maxGenes, kind: "int" },
  "--min-umis": { param: QcParameters.minUmis, kind: "int" },
  "--max-umis": { param: QcParameters.maxUmis, kind: "int" },
  "--mito-prefix": { param: QcParameters.mitoPrefix, kind: "prefix" },
  "--percent-mito": { param: QcParameters.percentMito, kind: "float" },
};

/** Pure: the command line, validated; throws a UsageError naming the flag and the value. Undefined for --help. */
export function parseQcArgs(argv: string[]): QcArgs | undefined {
  const { values: given } = readFlags(argv, {
    stack: { type: "string" },
    input: { type: "string" },
    output: { type: "string" },
    "poll-seconds": { type: "string" },
    ...Object.fromEntries(Object.keys(THRESHOLD_FLAGS).map((f) => [f.slice(2), { type: "string" as const }])),
  });
  if (given.help) return undefined;
  const values = Object.fromEntries(
    Object.entries(given).flatMap(([name, value]) =>
      typeof value === "string" ? [[`--${name}`, value]] : [],
    ),
  ) as Record<string, string>;
  if (!values["--stack"]) throw new QcUsageError(`--stack is required`);
  if (!/^[A-Za-z0-9_./-]+$/.test(values["--stack"])) {
    throw new QcUsageError(`--stack "${values["--stack"]}" is not a stack name`);
  }
  if (!values["--input"]) throw new QcUsageError(`--input is required`);
  for (const flag of ["--input", "--output"]) {
    const uri = values[flag];
    if (uri !== undefined && !S3_URI.exec(uri)?.[2]) {
      throw new QcUsageError(`${flag} "${uri}" is not an S3 URI with a key (s3://bucket/key)`);
    }
  }
  // Human and mouse samples name mitochondrial genes differently (MT- / mt-); a stack-wide default
  // is right for one organism only, so each run says which it is.
  if (!values["--mito-prefix"]) {
    throw new QcUsageError(
      `--mito-prefix is required: mt- for mouse, MT- for human, or none to skip the mito filter`,
    );
  }
  const thresholds: Record<string, string> = {};
  for (const [flag, { param, kind }] of Object.entries(THRESHOLD_FLAGS)) {
    const v = values[flag];
    if (v === undefined) continue;
    const ok =
      v === "none" ||
      (kind === "int" && /^\d+$/.test(v)) ||
      (kind === "float" && /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= 100) ||
      (kind === "prefix" && /^\S+$/.test(v));
    if (!ok) {
      const expected = {
        int: "a non-negative integer",
        float: "a percentage in (0, 100]",
        prefix: "a gene prefix",
      }[kind];
      throw new QcUsageError(`${flag} "${v}" must be ${expected} or "none"`);
    }
    thresholds[param] = v;
  }
  // Without a prefix Pegasus skips the mito filter, and the script refuses a percentage it would ignore.
  if (thresholds[QcParameters.mitoPrefix] === "none" && values["--percent-mito"] === undefined) {
    thresholds[QcParameters.percentMito] = "none";
  }
  const pollSeconds = integerFlag("--poll-seconds", values["--poll-seconds"] ?? "15", 1, 3600);
  return {
    stack: values["--stack"],
    input: values["--input"],
    output: values["--output"],
    thresholds,
    pollSeconds,
  };
}

/** The research outputs the command needs (a subset of ResearchEnvironment.outputs). */
export interface QcStackOutputs {
  region: string;
  bucket: string;
  outputPrefix: string;
  pipelineName: string;
}

/** Reads the stack outputs with the Pulumi CLI; clear errors when the CLI or an output is missing. */
export function readStackOutputs(stack: string, exec?: Exec): QcStackOutputs {
  const all = readPulumiOutputs(stack, (message) => new QcUsageError(message), exec);
  // index.ts exports the research outputs as one object, `research`.
  const research = all.research;
  if (typeof research !== "object" || research === null) {
    throw new QcUsageError(
      `stack ${stack} has no output "research": deploy the research part there (fieldnotes:parts lists research)`,
    );
  }
  const out = research as Record<string, unknown>;
  const read = (key: keyof QcStackOutputs): string => {
    const v = out[key];
    if (typeof v !== "string" || v === "") {
      throw new QcUsageError(
        `stack ${stack} has no output research.${key}; run \`pulumi up --stack ${stack}\` first`,
      );
    }
    return v;
  };
  return {
    region: read("region"),
    bucket: read("bucket"),
    outputPrefix: read("outputPrefix"),
    pipelineName: read("pipelineName"),
  };
}

export type SageMakerSend = Pick<SageMakerClient, "send">;

export interface RunQcDeps {
  client: SageMakerSend;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export interface QcResult {
  status: string;
  executionArn: string;
  /** Where qc_metrics.csv is, on success. */
  csvUri?: string;
  failureReason?: string;
}

/** Starts the pipeline and follows it to the end, logging each status change with the elapsed time. */
export async function runQc(args: QcArgs, outputs: QcStackOutputs, deps: RunQcDeps): Promise<QcResult> {
  const inputBucket = S3_URI.exec(args.input)![1];
  if (inputBucket !== outputs.bucket) {
    // The execution role reads only the research bucket; the job would fail minutes later with AccessDenied.
    throw new QcUsageError(
      `--input is in bucket "${inputBucket}", but the pipeline's role may read only the research bucket ` +
        `"${outputs.bucket}": copy the sample there first, e.g. aws s3 cp sample.h5 s3://${outputs.bucket}/pegasus/input/`,
    );
  }
  const started = deps.now();
  const runId = started.toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const output = ensureSlash(args.output ?? `${ensureSlash(outputs.outputPrefix)}${runId}/`);
  const parameters = [
    { Name: QcParameters.input, Value: args.input },
    { Name: QcParameters.output, Value: output },
    ...Object.entries(args.thresholds).map(([Name, Value]) => ({ Name, Value })),
  ];
  const start = await deps.client.send(
    new StartPipelineExecutionCommand({
      PipelineName: outputs.pipelineName,
      PipelineExecutionDisplayName: `qc-${runId}`,
      PipelineParameters: parameters,
      // 32-128 characters; makes a retried start idempotent instead of a second execution.
      ClientRequestToken: `qc-${runId}-${randomUUID()}`,
    }),
  );
  const executionArn = start.PipelineExecutionArn;
  if (!executionArn) throw new Error("StartPipelineExecution returned no PipelineExecutionArn");
  deps.log(`started ${outputs.pipelineName} on ${args.input}\n  execution ${executionArn}`);

  const elapsed = () => `${Math.round((deps.now().getTime() - started.getTime()) / 1000)}s`;
  let last = "";
  for (;;) {
    const [execution, steps] = await Promise.all([
      deps.client.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: executionArn })),
      deps.client.send(new ListPipelineExecutionStepsCommand({ PipelineExecutionArn: executionArn })),
    ]);
    const status = execution.PipelineExecutionStatus ?? "Unknown";
    const step = steps.PipelineExecutionSteps?.find((s) => s.StepName === QC_STEP_NAME);
    const line = `${status}${step ? ` (step ${QC_STEP_NAME}: ${step.StepStatus ?? "Pending"})` : ""}`;
    if (line !== last) deps.log(`[${elapsed()}] ${line}`);
    last = line;

    if (status === "Succeeded") {
      const csvUri = `${output}qc_metrics.csv`;
      deps.log(`QC finished after ${elapsed()}: ${csvUri}`);
      return { status, executionArn, csvUri };
    }
    if (status === "Failed" || status === "Stopped") {
      const failureReason =
        step?.FailureReason ??
        execution.FailureReason ??
        `the pipeline ${status.toLowerCase()} without a reason`;
      const job = step?.Metadata?.ProcessingJob?.Arn;
      deps.log(
        `QC ${status.toLowerCase()} after ${elapsed()}: ${failureReason}${job ? `\n  processing job ${job}` : ""}`,
      );
      return { status, executionArn, failureReason };
    }
    await deps.sleep(args.pollSeconds * 1000);
  }
}

function ensureSlash(uri: string): string {
  return uri.endsWith("/") ? uri : `${uri}/`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseQcArgs(argv);
    if (!args) {
      console.log(USAGE);
      return 0;
    }
    const outputs = readStackOutputs(args.stack);
    const result = await runQc(args, outputs, {
      client: new SageMakerClient({ region: outputs.region }),
      log: (line) => console.log(line),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: () => new Date(),
    });
    return result.status === "Succeeded" ? 0 : 1;
  } catch (err) {
    return failed(err, USAGE, "qc: ");
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
