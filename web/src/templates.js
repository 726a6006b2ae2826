// Basket templates; instruments are the local stack's seeded NIFTY and BANKNIFTY options (local/seed.py).

function leg(tradingsymbol, side, lots = 1) {
  return { exchange: "NFO", tradingsymbol, side, lots };
}

export const TEMPLATES = [
  {
    id: "nifty-iron-condor",
    label: "NIFTY iron condor",
    input: {
      name: "NIFTY iron condor",
      strategies: [
        { name: "short straddle", legs: [leg("NIFTY26DEC26000CE", "SELL"), leg("NIFTY26DEC26000PE", "SELL")] },
        { name: "wings", legs: [leg("NIFTY26DEC26500CE", "BUY"), leg("NIFTY26DEC25500PE", "BUY")] },
      ],
    },
  },
  {
    id: "banknifty-straddle",
    label: "BANKNIFTY short straddle",
    input: {
      name: "BANKNIFTY short straddle",
      strategies: [
        {
          name: "straddle",
          legs: [
            { exchange: "NFO", tradingsymbol: "BANKNIFTY26DEC59000CE", side: "SELL", lots: 1 },
            { exchange: "NFO", tradingsymbol: "BANKNIFTY26DEC59000PE", side: "SELL", lots: 1 },
          ],
        },
      ],
    },
  },
];
