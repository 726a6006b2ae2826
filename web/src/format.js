// Money, quantities and times as an Indian trader reads them. Amounts arrive from the API as exact decimal
// strings; they are formatted and summed as strings and BigInt paise, never as floats.

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const MINUS = "\u2212";

/**
 * A decimal string (or BigInt at `scale`) as a BigInt scaled to `scale` places, rounded half-even.
 * Returns null for null, undefined, "" or text that is not a plain decimal.
 */
export function toScaled(value, scale = 2) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value;
  const match = DECIMAL.exec(String(value).trim());
  if (!match || (match[2] === "" && (match[3] || "") === "")) return null;
  const [, sign, whole, fraction = ""] = match;
  const kept = BigInt((whole || "0") + fraction.slice(0, scale).padEnd(scale, "0"));
  const dropped = fraction.slice(scale);
  let scaled = kept;
  if (/[1-9]/.test(dropped)) {
    const half = dropped[0] > "5" || (dropped[0] === "5" && /[1-9]/.test(dropped.slice(1)));
    const tie = dropped[0] === "5" && !/[1-9]/.test(dropped.slice(1));
    if (half || (tie && kept % 2n === 1n)) scaled += 1n;
  }
  return sign === "-" ? -scaled : scaled;
}

/** Rupees (a decimal string) as integer paise, half-even; null when not a number. */
export function toPaise(value) {
  return toScaled(value, 2);
}

/** Digits grouped the Indian way: the last three, then pairs (12,34,567). */
export function groupIndian(digits) {
  const text = String(digits);
  if (text.length <= 3) return text;
  const head = text.slice(0, -3);
  const pairs = head.replace(/\B(?=(\d{2})+(?!\d))/g, ",");
  return `${pairs},${text.slice(-3)}`;
}

/** A scaled BigInt as a decimal string with `scale` places and Indian grouping, sign separate. */
function parts(scaled, scale) {
  const negative = scaled < 0n;
  const magnitude = (negative ? -scaled : scaled).toString().padStart(scale + 1, "0");
  const whole = magnitude.slice(0, magnitude.length - scale);
  const fraction = magnitude.slice(magnitude.length - scale);
  return { negative, text: scale ? `${groupIndian(whole)}.${fraction}` : groupIndian(whole) };
}

/**
 * Rupees for people: "₹1,215.50", "₹12,34,567.00", "−₹60.25"; "—" when there is no value.
 * `value` is a decimal string (rounded half-even to paise) or BigInt paise. `signed` adds "+" to gains.
 */
export function formatRupees(value, { signed = false } = {}) {
  const paise = toPaise(value);
  if (paise === null) return "—";
  const { negative, text } = parts(paise, 2);
  const sign = negative ? MINUS : signed && paise > 0n ? "+" : "";
  return `${sign}₹${text}`;
}

/** A price (decimal string) with Indian grouping and two decimals, without the rupee sign. */
export function formatPrice(value) {
  const paise = toPaise(value);
  if (paise === null) return "—";
  const { negative, text } = parts(paise, 2);
  return `${negative ? MINUS : ""}${text}`;
}

/** BigInt paise as a plain decimal string ("-1215.50"), the API's own form. */
export function paiseToDecimal(paise) {
  const negative = paise < 0n;
  const digits = (negative ? -paise : paise).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** The exact sum of decimal strings in paise (BigInt); values that are not numbers are skipped. */
export function sumPaise(values) {
  return values.reduce((total, value) => {
    const paise = toPaise(value);
    return paise === null ? total : total + paise;
  }, 0n);
}

/** True when a decimal string (or BigInt) is below zero. */
export function isNegative(value) {
  const paise = toPaise(value);
  return paise !== null && paise < 0n;
}

/**
 * A quantity in units with its lots: "130 (2 lots × 65)", "−65 (1 lot × 65)", "70 (lot size 65)" when it is not a
 * whole number of lots, and just "130" when the lot size is not known.
 */
export function formatLots(quantity, lotSize) {
  const units = Number(quantity);
  const shown = `${units < 0 ? MINUS : ""}${groupIndian(Math.abs(units))}`;
  if (!lotSize || !Number.isInteger(units)) return shown;
  if (units === 0) return `0 (lot size ${lotSize})`;
  if (units % lotSize !== 0) return `${shown} (lot size ${lotSize})`;
  const lots = Math.abs(units) / lotSize;
  return `${shown} (${groupIndian(lots)} ${lots === 1 ? "lot" : "lots"} × ${lotSize})`;
}

const IST = "Asia/Kolkata";
const TIME = new Intl.DateTimeFormat("en-IN", { timeZone: IST, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const DAY = new Intl.DateTimeFormat("en-IN", { timeZone: IST, day: "2-digit", month: "short" });

/** An ISO time as IST hh:mm:ss ("—" when missing or not a time). */
export function formatTimeIst(iso) {
  if (!iso) return "—";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "—" : TIME.format(at);
}

/** An ISO time as IST "01 Dec 14:05:03"; the day is dropped when it is `today`'s (IST). */
export function formatDateTimeIst(iso, today = new Date()) {
  if (!iso) return "—";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "—";
  const day = DAY.format(at);
  return day === DAY.format(today) ? TIME.format(at) : `${day} ${TIME.format(at)}`;
}
