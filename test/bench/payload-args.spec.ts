import * as assert from "node:assert/strict";
import { parseArgs, workerFlags } from "../../bench/payload";
import { rotation, spread } from "../../bench/stats";

const MiB = 1024 * 1024;

describe("payload benchmark: flags and figures", () => {
  it("reads sizes, rounds and sections, and defaults to 64MiB,512MiB,2GiB over 5 rounds", () => {
    const defaults = parseArgs([])!;
    assert.deepEqual(defaults.sizes, [64 * MiB, 512 * MiB, 2048 * MiB]);
    assert.equal(defaults.repeat, 5);
    assert.deepEqual(defaults.sections, ["transfers", "inline", "cold"]);
    const o = parseArgs(["--sizes", "1MiB,2GiB", "--repeat=3", "--only", "cold", "--part-size", "5MiB"])!;
    assert.deepEqual([o.sizes, o.repeat, o.sections, o.partSize], [[MiB, 2048 * MiB], 3, ["cold"], 5 * MiB]);
    assert.equal(parseArgs(["--help"]), undefined);
  });

  it("pins V8's initial old generation of every transfer process unless told 0", () => {
    assert.equal(parseArgs([])!.initialOldSpaceMiB, 64);
    assert.deepEqual(workerFlags(parseArgs([])!.initialOldSpaceMiB), [
      "--no-warnings",
      "--initial-old-space-size=64",
    ]);
    assert.deepEqual(workerFlags(parseArgs(["--initial-old-space", "0"])!.initialOldSpaceMiB), [
      "--no-warnings",
    ]);
    assert.throws(
      () => parseArgs(["--initial-old-space", "64MiB"]),
      /--initial-old-space: "64MiB" must be an integer from 0 to 4096/,
    );
  });

  it("refuses a bad flag, naming it and the value", () => {
    assert.throws(() => parseArgs(["--repeats", "3"]), /unknown flag "--repeats"; did you mean --repeat\?/);
    assert.throws(() => parseArgs(["--repeat", "0"]), /--repeat: "0" must be an integer from 1 to 1000/);
    assert.throws(() => parseArgs(["--repeat", "2.5"]), /--repeat: "2.5" must be an integer from 1 to 1000/);
    assert.throws(() => parseArgs(["--sizes", "64MiB,lots"]), /--sizes: "lots" is not a size/);
    assert.throws(
      () => parseArgs(["--part-size", "4MiB"]),
      /--part-size must be from 5MiB to 10MiB, got 4MiB/,
    );
    assert.throws(() => parseArgs(["--only", "transfer"]), /--only: unknown section "transfer"/);
    assert.throws(() => parseArgs(["--repeat"]), /: --repeat needs a value$/);
  });

  it("summarises a sample by its median, quartiles and range", () => {
    assert.deepEqual(spread([0.8, 1.0, 0.9, 0.95, 0.7]), {
      median: 0.9,
      q1: 0.8,
      q3: 0.95,
      min: 0.7,
      max: 1,
      n: 5,
    });
    assert.equal(spread([2, 1]).median, 1.5);
    assert.throws(() => spread([]), /no values/);
    assert.throws(() => spread([1, NaN]), /NaN is not a finite number/);
  });

  it("rotates the order of the candidates round by round", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((r) => rotation(["a", "b", "c"], r).join("")),
      ["abc", "bca", "cab", "abc"],
    );
  });
});
