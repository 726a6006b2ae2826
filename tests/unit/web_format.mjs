// The dashboard's pure helpers (web/src/format.js, pnlAxis.js, tradeBook.js) under node: prints what they
// return for a fixed set of inputs as JSON; tests/unit/test_web_format.py checks it.
import * as format from "../../web/src/format.js";
import { pnlHistory, pnlRange } from "../../web/src/pnlAxis.js";
import { mergeFills } from "../../web/src/tradeBook.js";

const rupees = [
  "1215.5", "1215.50", "1234567", "-1234567.891", "123456789.005", "0", "-0.004", "999.995", "0.125", "0.135",
  "-60", "12.3456", "100000", "10000000", "abc", "", null, "5.", ".5",
];
const out = {
  rupees: Object.fromEntries(rupees.map((v) => [String(v), format.formatRupees(v)])),
  signed: ["60", "-60", "0"].map((v) => format.formatRupees(v, { signed: true })),
  prices: ["120.5000", "26000.0250", "1234.5"].map(format.formatPrice),
  paise: ["0.1", "0.2", "-1215.50", "99999999999999999.99"].map((v) => String(format.toPaise(v))),
  // 0.1 + 0.2 in floats is 0.30000000000000004; in paise it is 30
  sum: format.paiseToDecimal(format.sumPaise(["0.10", "0.20", "-1215.50", "99999999999999999.99", null])),
  sumOfNone: format.paiseToDecimal(format.sumPaise([])),
  bigPaise: format.formatRupees(123456789012n),
  lots: [[130, 65], [-65, 65], [70, 65], [0, 65], [130, null], [1500000, 15]].map(([q, l]) => format.formatLots(q, l)),
  times: [format.formatTimeIst("2026-12-01T04:00:05Z"), format.formatTimeIst(null), format.formatTimeIst("nope")],
  dateTimes: [
    format.formatDateTimeIst("2026-12-01T09:45:00Z", new Date("2026-12-01T10:00:00Z")),
    format.formatDateTimeIst("2026-11-30T09:45:00Z", new Date("2026-12-01T10:00:00Z")),
  ],
  negative: ["-0.01", "0", "-0.001", "3"].map(format.isNegative),
  ranges: {
    small: pnlRange([10, 70, 40]),
    smallLoss: pnlRange([-10, -70]),
    flat: pnlRange([]),
    zero: pnlRange([0, 0]),
    wide: pnlRange([-5000, 12000]),
  },
  history: pnlHistory(
    [{ filledAt: "2026-12-01T04:00:07Z" }, { filledAt: "2026-12-01T04:00:05Z" }],
    [{ asOf: "2026-12-01T04:10:00Z", pnl: "-60.00", source: "page load" }, { asOf: "2026-12-01T04:05:00Z", pnl: "12.00" }],
  ),
  // loaded page [t2, t1], then onFill replays t2 (with recordedAt) and brings t3
  book: mergeFills(
    [
      { tradeId: "t2", filledAt: "2026-12-01T04:00:06Z" },
      { tradeId: "t1", filledAt: "2026-12-01T04:00:05Z" },
    ],
    [
      { tradeId: "t2", filledAt: "2026-12-01T04:00:06Z", recordedAt: "2026-12-01T04:00:06.5Z" },
      { tradeId: "t3", filledAt: "2026-12-01T09:30:07+05:30" },
    ],
  ),
  historyNoFills: pnlHistory([], [{ asOf: "2026-12-01T04:10:00Z", pnl: "5.00" }]),
};
process.stdout.write(JSON.stringify(out));
