import { describe, expect, it } from 'vitest';
import {
  QuantityError,
  add,
  compare,
  formatQuantity,
  isQuantity,
  newMilliQuantity,
  newQuantity,
  parsePercent,
  parseQuantity,
  sub,
} from './quantity.js';

describe('parseQuantity canonical forms', () => {
  const cases: { name: string; input: string | number; want: string }[] = [
    { name: 'zero prints as 0', input: '0', want: '0' },
    { name: 'a binary zero prints as 0', input: '0Ki', want: '0' },
    { name: 'a plain integer stays as written', input: '2', want: '2' },
    { name: 'an explicit plus sign is dropped', input: '+5', want: '5' },
    { name: 'a thousand becomes 1k', input: '1000', want: '1k' },
    { name: 'a value that is no whole number of thousands keeps its digits', input: '1500', want: '1500' },
    { name: 'a fractional kilo is shown in units', input: '1.5k', want: '1500' },
    { name: 'a half becomes milli-units', input: '0.5', want: '500m' },
    { name: 'a leading dot is accepted', input: '.5', want: '500m' },
    { name: 'a trailing dot is accepted', input: '5.', want: '5' },
    { name: 'milli-units stay milli-units', input: '1500m', want: '1500m' },
    { name: 'a tenth becomes 100m', input: '0.1', want: '100m' },
    { name: 'a thousand kilo becomes a mega', input: '1000k', want: '1M' },
    { name: 'gibibytes stay binary', input: '1Gi', want: '1Gi' },
    { name: 'tebibytes stay binary and exact', input: '2Ti', want: '2Ti' },
    { name: 'a fractional gibibyte becomes whole mebibytes', input: '1.5Gi', want: '1536Mi' },
    { name: 'a thousand twenty-four kibibytes become a mebibyte', input: '1024Ki', want: '1Mi' },
    { name: 'a binary value below 1024 prints as a decimal', input: '0.5Ki', want: '512' },
    { name: 'a binary value that is not a whole multiple prints as decimal units', input: '1.5Ki', want: '1536' },
    { name: 'exbibytes beyond 64 bits stay exact', input: '8Ei', want: '8Ei' },
    { name: 'an exponent form stays an exponent form', input: '1e3', want: '1e3' },
    { name: 'an upper-case exponent is read as an exponent', input: '1E3', want: '1e3' },
    { name: 'a negative exponent is kept in multiples of three', input: '1e-3', want: '1e-3' },
    { name: 'a lone E is the exa suffix', input: '2E', want: '2E' },
    { name: 'a decimal value beyond exa falls back to an exponent', input: '1000E', want: '1e21' },
    { name: 'precision below a nano-unit rounds up', input: '0.1n', want: '1n' },
    { name: 'negative sub-nano values round away from zero', input: '-0.1n', want: '-1n' },
    { name: 'negative binary values stay binary', input: '-1Gi', want: '-1Gi' },
    { name: 'a JSON integer is a quantity', input: 4, want: '4' },
    { name: 'a JSON fraction is a quantity', input: 0.25, want: '250m' },
    { name: 'a large JSON number keeps its exponent', input: 1e21, want: '1e21' },
  ];
  it.each(cases)('$name', ({ input, want }) => {
    expect(parseQuantity(input).toString()).toBe(want);
  });

  it('serializes to JSON as its canonical string', () => {
    expect(JSON.stringify({ memory: parseQuantity('1.5Gi') })).toBe('{"memory":"1536Mi"}');
  });
});

describe('parseQuantity errors', () => {
  const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const cases: { name: string; input: string | number; message: string }[] = [
    { name: 'the empty string is refused', input: '', message: `invalid quantity "": ${FORMAT}` },
    { name: 'letters alone are refused', input: 'abc', message: `invalid quantity "abc": ${FORMAT}` },
    { name: 'an upper-case K is no suffix', input: '1K', message: `invalid quantity "1K": unable to parse quantity's suffix "K"` },
    { name: 'a byte suffix is no suffix', input: '1Gb', message: `invalid quantity "1Gb": ${FORMAT}` },
    { name: 'two dots are refused', input: '1.2.3', message: `invalid quantity "1.2.3": ${FORMAT}` },
    { name: 'an exponent without digits before it is refused', input: 'e3', message: `invalid quantity "e3": ${FORMAT}` },
    { name: 'a lone e is no suffix', input: '1e', message: `invalid quantity "1e": unable to parse quantity's suffix "e"` },
    { name: 'a space before the suffix is refused', input: '1 Gi', message: `invalid quantity "1 Gi": ${FORMAT}` },
    { name: 'a percentage is not a quantity', input: '40%', message: `invalid quantity "40%": ${FORMAT}` },
    { name: 'a huge exponent is refused before it is computed', input: '1e999999', message: 'exponent may not exceed 100 in magnitude' },
    { name: 'an overlong string is refused', input: '1'.repeat(200), message: 'longer than 128 characters' },
    { name: 'infinity is refused', input: Number.POSITIVE_INFINITY, message: 'not a finite number' },
  ];
  it.each(cases)('$name', ({ input, message }) => {
    expect(() => parseQuantity(input)).toThrow(QuantityError);
    expect(() => parseQuantity(input)).toThrow(message);
    expect(isQuantity(input)).toBe(false);
  });

  it('isQuantity accepts good strings and refuses non-strings', () => {
    expect(isQuantity('250m')).toBe(true);
    expect(isQuantity({})).toBe(false);
  });
});

describe('quantity arithmetic and comparison', () => {
  const cmp: { name: string; a: string; b: string; want: -1 | 0 | 1 }[] = [
    { name: 'one gibibyte equals 1024 mebibytes', a: '1Gi', b: '1024Mi', want: 0 },
    { name: 'one equals a thousand milli', a: '1', b: '1000m', want: 0 },
    { name: '999m is less than 1', a: '999m', b: '1', want: -1 },
    { name: 'a gigabyte is less than a gibibyte', a: '1G', b: '1Gi', want: -1 },
    { name: 'an exbibyte beyond float precision still compares exactly', a: '8Ei', b: '9223372036854775807', want: 1 },
    { name: 'one nano-unit more is greater', a: '1000000001n', b: '1', want: 1 },
  ];
  it.each(cmp)('$name', ({ a, b, want }) => {
    expect(compare(a, b)).toBe(want);
  });

  const sums: { name: string; run: () => string; want: string }[] = [
    { name: 'adding keeps the left-hand binary format', run: () => add('1Gi', '512Mi').toString(), want: '1536Mi' },
    { name: 'subtracting milli-cores is exact', run: () => sub('1', '250m').toString(), want: '750m' },
    { name: 'adding to zero takes the other format', run: () => add('0', '1Gi').toString(), want: '1Gi' },
    { name: 'going below zero gives a negative quantity', run: () => sub('1Gi', '2Gi').toString(), want: '-1Gi' },
    { name: 'a tenth added ten times is exactly one', run: () => Array.from({ length: 10 }).reduce<ReturnType<typeof parseQuantity>>((q) => q.add(parseQuantity('0.1')), parseQuantity('0')).toString(), want: '1' },
  ];
  it.each(sums)('$name', ({ run, want }) => {
    expect(run()).toBe(want);
  });

  it('does not change its operands', () => {
    const a = parseQuantity('1Gi');
    a.add(parseQuantity('1Gi'));
    expect(a.toString()).toBe('1Gi');
  });
});

describe('quantity conversions', () => {
  const cases: { name: string; run: () => unknown; want: unknown }[] = [
    { name: 'value rounds a fraction up like Kubernetes', run: () => parseQuantity('1500m').value(), want: 2n },
    { name: 'value rounds a negative fraction away from zero', run: () => parseQuantity('-1500m').value(), want: -2n },
    { name: 'milliValue rounds sub-milli precision up', run: () => parseQuantity('1.0001').milliValue(), want: 1001n },
    { name: 'toBytes of two tebibytes is exact', run: () => parseQuantity('2Ti').toBytes(), want: 2199023255552 },
    { name: 'toMillis turns cores into millicores', run: () => parseQuantity('2').toMillis(), want: 2000 },
    { name: 'toNumber gives a float for ratios', run: () => parseQuantity('100m').toNumber(), want: 0.1 },
    { name: 'toNumber of a negative value keeps the sign', run: () => parseQuantity('-1.5').toNumber(), want: -1.5 },
    { name: 'newQuantity builds an integer quantity in the asked format', run: () => newQuantity(8n * 1024n ** 3n, 'BinarySI').toString(), want: '8Gi' },
    { name: 'newMilliQuantity builds milli-units', run: () => newMilliQuantity(1500).toString(), want: '1500m' },
  ];
  it.each(cases)('$name', ({ run, want }) => {
    expect(run()).toEqual(want);
  });

  it('toBytes refuses a value a number cannot hold exactly', () => {
    expect(() => parseQuantity('8Ei').toBytes()).toThrow('too large to be represented exactly');
  });
});

describe('formatQuantity with a preferred format', () => {
  const cases: { name: string; input: string; format: 'DecimalSI' | 'BinarySI' | 'DecimalExponent'; want: string }[] = [
    { name: 'a gibibyte in decimal is its byte count', input: '1Gi', format: 'DecimalSI', want: '1073741824' },
    { name: 'a whole number of kibibytes is shown in binary', input: '2048', format: 'BinarySI', want: '2Ki' },
    { name: 'binary falls back to decimal below 1024', input: '1k', format: 'BinarySI', want: '1k' },
    { name: 'binary falls back to decimal for fractions', input: '1500.5', format: 'BinarySI', want: '1500500m' },
    { name: 'a kilo in exponent form is 1e3', input: '1k', format: 'DecimalExponent', want: '1e3' },
    { name: 'a tenth in exponent form is 100e-3', input: '100m', format: 'DecimalExponent', want: '100e-3' },
  ];
  it.each(cases)('$name', ({ input, format, want }) => {
    expect(formatQuantity(parseQuantity(input), format)).toBe(want);
  });
});

describe('parsePercent', () => {
  const cases: { name: string; input: unknown; want: number | undefined }[] = [
    { name: 'a whole percentage is read', input: '40%', want: 40 },
    { name: 'a fractional percentage is read', input: '12.5%', want: 12.5 },
    { name: 'a number without the sign is not a percentage', input: '40', want: undefined },
    { name: 'a negative percentage is refused', input: '-5%', want: undefined },
    { name: 'a bare sign is refused', input: '%', want: undefined },
    { name: 'a JSON number is not a percentage', input: 40, want: undefined },
    { name: 'a quantity is not a percentage', input: '4Gi', want: undefined },
  ];
  it.each(cases)('$name', ({ input, want }) => {
    expect(parsePercent(input)).toBe(want);
  });
});
