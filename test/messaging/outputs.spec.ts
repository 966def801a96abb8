import { strict as assert } from "assert";
import { assertNoError, planOf } from "./plans";

// A stack exports only the parts it has: an output set to undefined is still an output, and the
// Pulumi CLI warns about it on every update.
describe("stack outputs", function () {
  this.timeout(120_000);

  it("a messaging stack exports messaging only, the research stack research only", async () => {
    const [dev, b, research] = await Promise.all([planOf("dev"), planOf("b-usw2"), planOf("research")]);
    for (const plan of [dev, b, research]) assertNoError(plan);
    assert.deepEqual(dev.exportNames, ["messaging"]);
    assert.deepEqual(b.exportNames, ["messaging"]);
    assert.deepEqual(research.exportNames, ["research"]);
    assert.ok(dev.outputs.messaging && research.outputs.research);
  });
});
