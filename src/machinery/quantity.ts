// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): "2Ti", "1500m",
// "1e3". A value is kept as an exact count of nano-units in a BigInt, because memory sizes
// overflow float precision long before Ei and CPU accounting must add milli-cores exactly.
// Like Kubernetes, anything finer than a nano-unit is rounded up, away from zero.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export class QuantityError extends Error {
  override name = 'QuantityError';
}

const NANO = 1_000_000_000n;
// Our own bounds, not Kubernetes': they keep a hostile string from building a huge BigInt.
const MAX_QUANTITY_LENGTH = 128;
const MAX_EXPONENT = 100;

const formatError =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binaryByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/** n / d rounded away from zero, the only rounding Kubernetes does (inf.RoundUp). */
function divRoundUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return (n < 0n) !== (d < 0n) ? q - 1n : q + 1n;
}

export class Quantity {
  /** The value times 10^9, exact. */
  readonly nanos: bigint;
  /** How the value was written, and so how it prints: "1Gi" stays binary, "1e3" exponent. */
  readonly format: QuantityFormat;

  constructor(nanos: bigint, format: QuantityFormat = 'DecimalSI') {
    this.nanos = nanos;
    this.format = format;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos === 0n ? 0 : this.nanos < 0n ? -1 : 1;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Kubernetes' Add keeps the receiver's format, unless the receiver is zero. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** The integer value, rounded up away from zero like Quantity.Value(): "1500m" is 2. */
  value(): bigint {
    return divRoundUp(this.nanos, NANO);
  }

  /** The value in thousandths, rounded up like Quantity.MilliValue(): "1.5" is 1500. */
  milliValue(): bigint {
    return divRoundUp(this.nanos, 1_000_000n);
  }

  /** The integer value as a number (bytes, counts); throws beyond Number.MAX_SAFE_INTEGER. */
  toBytes(): number {
    return toSafeNumber(this.value(), this);
  }

  /** Thousandths as a number, for CPU accounting in millicores. */
  toMillis(): number {
    return toSafeNumber(this.milliValue(), this);
  }

  /** The nearest double; fine for display and ratios, not for accounting. */
  toNumber(): number {
    const sign = this.nanos < 0n ? '-' : '';
    const n = abs(this.nanos);
    return Number(`${sign}${n / NANO}.${(n % NANO).toString().padStart(9, '0')}`);
  }

  /** The canonical form in this quantity's own format, as Kubernetes serializes it. */
  toString(): string {
    return formatQuantity(this);
  }

  toJSON(): string {
    return this.toString();
  }
}

function toSafeNumber(n: bigint, q: Quantity): number {
  if (abs(n) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(`quantity ${q.toString()} is too large to be represented exactly as a number`);
  }
  return Number(n);
}

function fail(input: string, why: string): never {
  throw new QuantityError(`invalid quantity ${JSON.stringify(input)}: ${why}`);
}

/** The suffix as (base, exponent, format), or undefined when it means nothing. */
function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  if (Object.hasOwn(decimalSuffixes, suffix)) {
    return { base: 10, exponent: decimalSuffixes[suffix]!, format: 'DecimalSI' };
  }
  if (Object.hasOwn(binarySuffixes, suffix)) {
    return { base: 2, exponent: binarySuffixes[suffix]!, format: 'BinarySI' };
  }
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  }
  return undefined;
}

/**
 * Parses a quantity: a decimal number with an optional binary-SI suffix (Ki..Ei), decimal-SI
 * suffix (n, u, m, k, M, G, T, P, E) or exponent (e3, E-2). JSON numbers are accepted too,
 * as CRDs with int-or-string quantities receive them. Throws QuantityError.
 */
export function parseQuantity(input: string | number | Quantity): Quantity {
  if (input instanceof Quantity) return input;
  let s: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) fail(String(input), 'not a finite number');
    s = String(input);
  } else if (typeof input === 'string') {
    s = input;
  } else {
    throw new QuantityError(`invalid quantity: expected a string or a number, got ${typeof input}`);
  }
  if (s.length === 0) fail(s, formatError);
  if (s.length > MAX_QUANTITY_LENGTH) fail(s.slice(0, 32) + '…', `longer than ${MAX_QUANTITY_LENGTH} characters`);

  const m = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/s.exec(s);
  if (!m) fail(s, formatError);
  const [, signPart, intPart = '', fracPart = '', suffix = ''] = m;
  if (intPart.length + fracPart.length === 0) fail(s, formatError);
  if (!/^[eEinumkKMGTP]*[-+]?\d*$/.test(suffix)) fail(s, formatError);
  const unit = interpretSuffix(suffix);
  if (!unit) fail(s, `unable to parse quantity's suffix "${suffix}"`);
  if (Math.abs(unit.exponent) > MAX_EXPONENT) fail(s, `exponent may not exceed ${MAX_EXPONENT} in magnitude`);

  // value = digits / 10^fraction-length * base^exponent, scaled by 10^9 and rounded up.
  let numerator = BigInt(intPart + fracPart || '0') * NANO;
  let denominator = 10n ** BigInt(fracPart.length);
  if (unit.base === 2) {
    numerator *= 2n ** BigInt(unit.exponent);
  } else if (unit.exponent >= 0) {
    numerator *= 10n ** BigInt(unit.exponent);
  } else {
    denominator *= 10n ** BigInt(-unit.exponent);
  }
  let nanos = divRoundUp(numerator, denominator);
  if (signPart === '-') nanos = -nanos;
  return new Quantity(nanos, nanos === 0n && unit.format === 'BinarySI' ? 'DecimalSI' : unit.format);
}

/** True when `s` parses as a quantity. Percentages ("40%") are not quantities. */
export function isQuantity(s: unknown): boolean {
  if (typeof s !== 'string' && typeof s !== 'number') return false;
  try {
    parseQuantity(s);
    return true;
  } catch {
    return false;
  }
}

/** An integer quantity: `newQuantity(4)`, `newQuantity(8n * 1024n ** 3n, 'BinarySI')`. */
export function newQuantity(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new QuantityError(`newQuantity needs a safe integer, got ${value}`);
  }
  return new Quantity(BigInt(value) * NANO, format);
}

/** A quantity of thousandths: `newMilliQuantity(1500)` is "1500m". */
export function newMilliQuantity(millis: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  if (typeof millis === 'number' && !Number.isSafeInteger(millis)) {
    throw new QuantityError(`newMilliQuantity needs a safe integer, got ${millis}`);
  }
  return new Quantity(BigInt(millis) * 1_000_000n, format);
}

type QuantityLike = Quantity | string | number;
const toQuantity = (q: QuantityLike): Quantity => (q instanceof Quantity ? q : parseQuantity(q));

/** -1, 0 or 1; strings and numbers are parsed first, so compare("1Gi", "1024Mi") is 0. */
export function compare(a: QuantityLike, b: QuantityLike): -1 | 0 | 1 {
  return toQuantity(a).cmp(toQuantity(b));
}

export function add(a: QuantityLike, b: QuantityLike): Quantity {
  return toQuantity(a).add(toQuantity(b));
}

export function sub(a: QuantityLike, b: QuantityLike): Quantity {
  return toQuantity(a).sub(toQuantity(b));
}

/** Largest exponent that is a multiple of 3 with an integer mantissa (AsCanonicalBytes). */
function decimalParts(nanos: bigint): { mantissa: bigint; exponent: number } {
  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  while (((exponent % 3) + 3) % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  return { mantissa, exponent };
}

/**
 * The canonical string Kubernetes would print (CanonicalizeBytes): "1536Mi" for 1.5Gi, "1500m"
 * for 1.5, "2k" for 2000. `preferredFormat` overrides the format the quantity was written in.
 * A binary format falls back to decimal for values below 1024 or with a fraction, as upstream.
 */
export function formatQuantity(q: Quantity, preferredFormat: QuantityFormat = q.format): string {
  if (q.nanos === 0n) return '0';
  let format = preferredFormat;
  if (format === 'BinarySI' && (abs(q.nanos) < 1024n * NANO || q.nanos % NANO !== 0n)) {
    format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let mantissa = q.nanos / NANO;
    let power = 0;
    while (power < binaryByPower.length - 1 && mantissa % 1024n === 0n) {
      mantissa /= 1024n;
      power++;
    }
    return `${mantissa}${binaryByPower[power]}`;
  }
  const { mantissa, exponent } = decimalParts(q.nanos);
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  const suffix = decimalByExponent.get(exponent);
  return suffix === undefined ? `${mantissa}e${exponent}` : `${mantissa}${suffix}`;
}

/**
 * "40%" as 40 (decimals allowed: "12.5%"); undefined for anything that is not a non-negative
 * percentage, so callers can fall back to parseQuantity for absolute amounts.
 */
export function parsePercent(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
  return m ? Number(m[1]) : undefined;
}
