import * as assert from "assert";
import { Writable } from "stream";
import { renderReport, runDemo, type DemoReport } from "../../local/demo";
import { KiB, MiB } from "../../local/size";
import { planStack } from "../../local/plan";

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

describe("local mode: the demo run of the fifo stack (FIFO topic and queues, a filtered subscriber)", function () {
  this.timeout(180_000);
  let report: DemoReport;
  let text: string;

  before(async () => {
    const plan = await planStack("fifo");
    assert.equal(plan.error, undefined, plan.error?.message);
    report = await runDemo({ plan, sizes: [KiB, 2 * MiB], out: quiet() });
    text = renderReport(report);
  });

  it("delivers both payloads through the FIFO topic and queues to b, checksums verified", () => {
    assert.ok(report.ok, `${report.reason}\n${text}`);
    const b = report.rows.filter((r) => r.subscriber === "b");
    assert.deepEqual(
      b.map((r) => [r.size, r.path, r.filtered ?? false, r.reportedSha256 === r.sha256]),
      [
        [KiB, "inline", false, true],
        [2 * MiB, "S3", false, true],
      ],
    );
  });

  it("reports the payload c's filter policy excludes as filtered, having checked that nothing arrived", () => {
    const c = report.rows.filter((r) => r.subscriber === "c");
    assert.deepEqual(
      c.map((r) => [r.size, r.filtered ?? false, r.intact]),
      [
        [KiB, false, true],
        [2 * MiB, true, true],
      ],
    );
    assert.match(text, /c\s+2 MiB .*○ filtered out \(filter policy\)/);
  });
});
