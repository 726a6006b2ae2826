// Basket templates: the demo baskets of local/demo_baskets.json (GraphiQL, the examples and the tests read the
// same file); their instruments are the local stack's seeded NIFTY and BANKNIFTY options (local/seed.py).
import demo from "../../local/demo_baskets.json";

export const TEMPLATES = demo.baskets;
