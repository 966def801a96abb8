// The QC pipeline's interface, shared by the Pipeline definition (processing.ts) and the command and
// notebook that start it. Dependency-free, so `npm run qc` loads without Pulumi.

export const QC_STEP_NAME = "PegasusQC";

/** Pipeline parameter names: what `npm run qc` and the notebook set per execution. */
export const QcParameters = {
  input: "InputS3Uri",
  output: "OutputS3Uri",
  minGenes: "MinGenes",
  maxGenes: "MaxGenes",
  minUmis: "MinUmis",
  maxUmis: "MaxUmis",
  mitoPrefix: "MitoPrefix",
  percentMito: "PercentMito",
} as const;
